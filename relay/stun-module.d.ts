/**
 * The part of the `stun` npm package (nodertc/stun, CommonJS, no types of its own) that
 * relay/stun.ts uses: a dgram STUN server, message construction, constants.
 */
declare module 'stun' {
  import type { EventEmitter } from 'node:events';
  import type { RemoteInfo } from 'node:dgram';

  export interface StunMessage {
    readonly type: number;
    readonly transactionId: Buffer;
    addXorAddress(address: string, port: number): boolean;
    addSoftware(software: string): boolean;
    addFingerprint(): boolean;
    toBuffer(): Buffer;
  }

  export interface StunServer extends EventEmitter {
    /** Decodes one datagram and emits the event of its class; public, called for every datagram. */
    process(message: Buffer, rinfo: RemoteInfo): void;
    listen(port: number, address?: string, callback?: () => void): void;
    send(message: StunMessage, port: number, address: string, callback?: (error: Error | null) => void): boolean;
    close(): void;
  }

  export function createServer(options: { type: 'udp4' | 'udp6'; socket?: import('node:dgram').Socket }): StunServer;
  export function createMessage(type: number, transactionId?: Buffer): StunMessage;
  export function createTransaction(): Buffer;
  export function decode(message: Buffer): StunMessage;
  export const constants: {
    STUN_BINDING_REQUEST: number;
    STUN_BINDING_RESPONSE: number;
    STUN_EVENT_BINDING_REQUEST: string;
    STUN_ATTR_XOR_MAPPED_ADDRESS: number;
    [name: string]: number | string;
  };
  const stun: {
    createServer: typeof createServer;
    createMessage: typeof createMessage;
    createTransaction: typeof createTransaction;
    decode: typeof decode;
    constants: typeof constants;
  };
  export default stun;
}
