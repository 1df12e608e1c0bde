namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// Timelines run one at a time, after the parallel tests: a timeline settles only when the thread pool is idle, which
/// other tests' work would delay.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class TimelineCollection;
