// The microphone as 20 ms frames of 16-bit little-endian PCM at the context's rate (16 kHz: 320 samples, 640 bytes).
class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Int16Array(sampleRate / 50);
    this.filled = 0;
  }

  process(inputs, outputs) {
    const samples = inputs[0][0];
    if (samples) {
      for (const sample of samples) {
        const clamped = Math.max(-1, Math.min(1, sample));
        this.frame[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
        if (this.filled === this.frame.length) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(sampleRate / 50);
          this.filled = 0;
        }
      }
    }
    outputs[0][0]?.fill(0);
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
