using System.Text.Json;
using System.Text.Json.Serialization;

namespace TelnyxAiService.Llm.Claude;

/// <summary>The body of <c>POST /v1/messages</c>: a streamed reply to text messages, with tools the model may call.</summary>
internal sealed record MessagesRequest(
    string Model,
    int MaxTokens,
    string System,
    IReadOnlyList<MessageParam> Messages,
    IReadOnlyList<ToolParam> Tools)
{
    public bool Stream => true;
}

/// <param name="Role"><c>user</c> or <c>assistant</c>.</param>
internal sealed record MessageParam(string Role, string Content);

internal sealed record ToolParam(string Name, string Description, ToolInputSchema InputSchema);

/// <summary>A JSON schema of the tool's input; ours take none.</summary>
internal sealed record ToolInputSchema(string Type, IReadOnlyDictionary<string, JsonElement> Properties);

/// <summary>A server-sent event of the stream that the agent acts on.</summary>
internal abstract record ClaudeEvent;

/// <summary><c>content_block_start</c>: a text block or a tool call begins.</summary>
internal sealed record ContentBlockStart([property: JsonRequired] int Index, [property: JsonRequired] ContentBlock ContentBlock) : ClaudeEvent;

/// <summary><c>content_block_delta</c>: more text, or more of a tool call's input.</summary>
internal sealed record ContentBlockDelta([property: JsonRequired] int Index, [property: JsonRequired] BlockDelta Delta) : ClaudeEvent;

/// <summary><c>content_block_stop</c>: the block is complete.</summary>
internal sealed record ContentBlockStop([property: JsonRequired] int Index) : ClaudeEvent;

/// <summary><c>message_delta</c>: why the model stopped.</summary>
internal sealed record MessageDelta([property: JsonRequired] MessageDeltaBody Delta) : ClaudeEvent;

internal sealed record MessageDeltaBody(string? StopReason);

/// <summary><c>error</c>: the API failed after the response started.</summary>
internal sealed record ErrorEvent(ApiError? Error) : ClaudeEvent;

/// <summary>The body of an error response: <c>{"type":"error","error":{"type","message"},"request_id"}</c>.</summary>
internal sealed record ErrorResponse(ApiError? Error);

internal sealed record ApiError(string? Type, string? Message);

/// <summary>A content block, told apart by its <c>type</c>; an unknown type (thinking, ...) reads as this base.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", IgnoreUnrecognizedTypeDiscriminators = true)]
[JsonDerivedType(typeof(TextBlock), "text")]
[JsonDerivedType(typeof(ToolUseBlock), "tool_use")]
internal record ContentBlock;

internal sealed record TextBlock : ContentBlock;

internal sealed record ToolUseBlock([property: JsonRequired] string Name) : ContentBlock;

/// <summary>
/// A block's delta, told apart by its <c>type</c>. Any other type reads as this base: a tool call's
/// <c>input_json_delta</c> (our tools take no input), <c>thinking_delta</c>, ...
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", IgnoreUnrecognizedTypeDiscriminators = true)]
[JsonDerivedType(typeof(TextBlockDelta), "text_delta")]
internal record BlockDelta;

internal sealed record TextBlockDelta([property: JsonRequired] string Text) : BlockDelta;

/// <summary>The Anthropic Messages API wire format, in snake_case; nulls where the type forbids them are refused.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectNullableAnnotations = true,
    AllowOutOfOrderMetadataProperties = true)]
[JsonSerializable(typeof(MessagesRequest))]
[JsonSerializable(typeof(ContentBlockStart))]
[JsonSerializable(typeof(ContentBlockDelta))]
[JsonSerializable(typeof(ContentBlockStop))]
[JsonSerializable(typeof(MessageDelta))]
[JsonSerializable(typeof(ErrorEvent))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ClaudeJson : JsonSerializerContext;
