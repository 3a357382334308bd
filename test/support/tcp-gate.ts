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

/** `host:port` apart. */
function hostAndPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export async function startTcpGate(target: string): Promise<TcpGate> {
  const { host, port } = hostAndPort(target);
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

/**
 * A TCP load balancer in the manner of HAProxy's round robin: each connection goes to the next of
 * `targets` that accepts it (a target whose process has died refuses, and the next is tried).
 */
export async function startTcpBalancer(targets: readonly string[]): Promise<{ address: string; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const connect = (tried: number): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const target = targets[next++ % targets.length]!;
      const { host, port } = hostAndPort(target);
      const upstream = net.connect(port, host);
      upstream.once('connect', () => resolve(upstream));
      upstream.once('error', (error) => {
        if (tried + 1 < targets.length) void connect(tried + 1).then(resolve, reject);
        else reject(error);
      });
    });
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    connect(0).then(
      (upstream) => {
        sockets.add(upstream);
        const end = () => {
          sockets.delete(client);
          sockets.delete(upstream);
          client.destroy();
          upstream.destroy();
        };
        client.on('close', end).on('error', end);
        upstream.on('close', end).on('error', end);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
