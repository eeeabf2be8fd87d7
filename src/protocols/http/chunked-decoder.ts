/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1): feed it bytes as they
 * arrive, get body data back as views into the input, without buffering data itself.
 *
 *   size line (hex [; ext]) ─▶ data (size bytes) ─▶ CRLF ─▶ ... ─▶ "0" line ─▶ trailer lines ─▶ empty line
 *
 * Chunk extensions and trailer fields are read and ignored (RFC 9112 §7.1.1, §7.1.2 allow that).
 * Bare LF line ends are accepted (RFC 9112 §2.2).
 */
import { MAX_CHUNK_LINE_BYTES } from './http-constants.ts';
import { HttpProtocolError } from './http-response-parser.ts';


type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export interface ChunkedOutput {
  /** Body data decoded from this input (views into it). */
  data: Uint8Array[];
  /** True once the last chunk and the trailer section were read. */
  done: boolean;
  /** Input bytes after the end of the chunked body (a pipelined or stray response). */
  rest: Uint8Array;
}

export class ChunkedDecoder {
  private state: State = 'size';
  private line: number[] = [];
  private remaining = 0;
  private trailerBytes = 0;
  private sawCr = false;
  /** Body bytes decoded so far. */
  bodyBytes = 0;

  /** @param maxTrailerBytes limit on the trailer section (it counts against the header limit). */
  constructor(private readonly maxTrailerBytes = 65536) {}

  get finished(): boolean {
    return this.state === 'done';
  }

  /**
   * Decodes `input`.
   * @throws {HttpProtocolError} on a malformed size line, missing CRLF after data, or over-long lines.
   */
  push(input: Uint8Array): ChunkedOutput {
    const data: Uint8Array[] = [];
    let i = 0;
    while (i < input.length && this.state !== 'done') {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, input.length - i);
          data.push(input.subarray(i, i + n));
          this.bodyBytes += n;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          const c = input[i++];
          if (c === 0x0d && !this.sawCr) {
            this.sawCr = true;
          } else if (c === 0x0a) {
            this.sawCr = false;
            this.state = 'size';
          } else {
            throw new HttpProtocolError('a chunk of the chunked response body is not followed by CRLF');
          }
          break;
        }
        case 'size':
        case 'trailer': {
          const c = input[i++];
          if (c !== 0x0a) {
            this.line.push(c);
            if (this.state === 'size' && this.line.length > MAX_CHUNK_LINE_BYTES) {
              throw new HttpProtocolError(`a chunk-size line of the response body is longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
            }
            if (this.state === 'trailer' && ++this.trailerBytes > this.maxTrailerBytes) {
              throw new HttpProtocolError(`the trailer section of the chunked response is larger than ${this.maxTrailerBytes} bytes`);
            }
            break;
          }
          if (this.line[this.line.length - 1] === 0x0d) this.line.pop();
          const text = String.fromCharCode(...this.line);
          this.line = [];
          if (this.state === 'size') this.onSizeLine(text);
          else if (text === '') this.state = 'done';
          break;
        }
      }
    }
    return { data, done: this.state === 'done', rest: input.subarray(i) };
  }

  private onSizeLine(text: string): void {
    // chunk-size [ BWS ";" ext ]; some servers pad the size with spaces, which BWS tolerates.
    const m = /^([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?$/.exec(text);
    if (!m) throw new HttpProtocolError(`the chunked response body has an invalid chunk-size line (${JSON.stringify(text.slice(0, 40))})`);
    const size = parseInt(m[1], 16);
    if (!Number.isSafeInteger(size)) throw new HttpProtocolError(`a chunk of the response body claims an impossible size (0x${m[1]})`);
    if (size === 0) {
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }
}
