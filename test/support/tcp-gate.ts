import net from 'node:net';

/**
 * A TCP relay in front of a server whose client-to-server direction can be held: while held, what
 * the client sends is kept back (the server's answers still reach the client). A worker behind a
 * held gate receives a workflow task, runs it and its local activities, and cannot report it done:
 * the moment between a local activity's write and the server's record of the workflow task, made
 * to last as long as a test needs.
 */
export interface TcpGate {
  /** host:port to connect to instead of the server. */
  readonly address: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startTcpGate(target: string): Promise<TcpGate> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let held = false;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; kept: Buffer[] }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    const pair = { client, upstream, kept: [] as Buffer[] };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => (held ? pair.kept.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: gatePort } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${gatePort}`,
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const pair of pairs) for (const chunk of pair.kept.splice(0)) pair.upstream.write(chunk);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
