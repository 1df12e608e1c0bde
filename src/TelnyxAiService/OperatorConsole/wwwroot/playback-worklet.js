// The agent's voice: a queue of 16-bit PCM chunks and marks. A mark is reported when playback reaches it; "clear" drops
// the queued audio at once and reports the marks it held, as a phone network does.
class PcmPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.port.onmessage = ({ data }) => {
      if (data.pcm) {
        this.queue.push(new Int16Array(data.pcm));
      } else if (data.mark !== undefined) {
        this.queue.push({ mark: data.mark });
      } else if (data.clear) {
        for (const item of this.queue) {
          if (item.mark !== undefined) this.port.postMessage({ mark: item.mark });
        }
        this.queue = [];
        this.offset = 0;
      }
    };
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    let written = 0;
    while (written < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      if (head.mark !== undefined) {
        this.port.postMessage({ mark: head.mark });
        this.queue.shift();
        continue;
      }
      const count = Math.min(out.length - written, head.length - this.offset);
      for (let i = 0; i < count; i++) out[written + i] = head[this.offset + i] / 0x8000;
      written += count;
      this.offset += count;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    out.fill(0, written);
    return true;
  }
}

registerProcessor('pcm-playback', PcmPlayback);
