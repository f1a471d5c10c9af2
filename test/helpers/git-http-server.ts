// A real git smart-HTTP server for tests: `git http-backend` (CGI), one process per request, behind
// a Node http server on 127.0.0.1 with HTTP Basic auth. It can refuse pushes to some refs (like
// the Claude Code on the web proxy, which lets a session push only its own claude/ branch) and
// fail chosen requests, and it counts the bytes that cross the wire.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface GitHttpServer {
  /** Base URL, e.g. http://127.0.0.1:PORT; repos are at `${url}/<name>.git`. */
  url: string;
  /** Directory holding the bare repos. */
  root: string;
  /** Bytes of request bodies received for git-receive-pack POSTs (i.e. what clients pushed), total. */
  pushedBytes(): number;
  /**
   * Every finished request: method, path+query, status, request body bytes, response body bytes.
   * inBytes are body bytes after HTTP chunk framing is removed, before gzip decoding; a request
   * answered early (401, 403, failNext) is still drained and counted.
   */
  requests: { method: string; path: string; status: number; inBytes: number; outBytes: number }[];
  /** Makes the next N requests whose path matches `re` fail with `status` (e.g. 403 or 500). Checked after auth. */
  failNext(re: RegExp, status: number, count?: number): void;
  /** Creates an empty bare repo `<name>.git` (HEAD on main, http.receivepack=true) and returns its path. */
  createRepo(name: string): string;
  /** Kills in-flight CGIs (with the git processes they started), stops the server, removes its temp dirs. */
  close(): Promise<void>;
}

type RequestRecord = GitHttpServer['requests'][number];

export async function startGitHttpServer(
  opts: { user?: string; password?: string; refuseRefs?: RegExp } = {},
): Promise<GitHttpServer> {
  const user = opts.user ?? 'x-access-token';
  const password = opts.password ?? 'test-token';
  const base = mkdtempSync(join(tmpdir(), 'git-http-'));
  const root = join(base, 'repos');
  const home = join(base, 'home');
  mkdirSync(root);
  mkdirSync(home);
  // Only what git needs: the caller's GIT_DIR, config and the like must not reach the server side.
  const gitEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
  const requests: RequestRecord[] = [];
  const failures: { re: RegExp; status: number; count: number }[] = [];
  const children = new Map<ChildProcess, Promise<void>>();

  function authorized(header: string | undefined): boolean {
    const m = /^(Basic|Bearer)\s+(\S+)$/i.exec(header ?? '');
    if (!m) return false;
    if (m[1]!.toLowerCase() === 'bearer') return m[2] === password;
    return Buffer.from(m[2]!, 'base64').toString('utf8') === `${user}:${password}`;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const record: RequestRecord = { method: req.method ?? '', path, status: 0, inBytes: 0, outBytes: 0 };
    const counted = req.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          record.inBytes += chunk.length;
          done(null, chunk);
        },
      }),
    );
    res.on('close', () => {
      record.status = res.statusCode;
      requests.push(record);
    });
    const reject = (status: number, headers: Record<string, string> = {}) => {
      counted.resume(); // drain, so the body is counted and the connection stays usable
      const text = `HTTP ${status}\n`;
      record.outBytes = text.length;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(text);
    };

    if (!authorized(req.headers.authorization)) return reject(401, { 'WWW-Authenticate': 'Basic realm="git"' });
    const failure = failures.find((f) => f.count > 0 && f.re.test(path));
    if (failure) {
      failure.count--;
      return reject(failure.status);
    }

    // Bodies are inflated here rather than by http-backend, so refuseRefs reads plain pkt-lines.
    const gzip = /^(x-)?gzip$/i.test(req.headers['content-encoding'] ?? '');
    const body: Readable = gzip ? counted.pipe(createGunzip()) : counted;
    const [pathname = '/', query = ''] = path.split(/\?(.*)/s);
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(pathname);
    } catch {
      return reject(400);
    }
    const isPush = req.method === 'POST' && pathname.endsWith('/git-receive-pack');
    const ready = isPush && opts.refuseRefs ? readCommands(body) : Promise.resolve({ head: Buffer.alloc(0), refs: [] });
    ready.then(
      ({ head, refs }) => {
        if (refs.some((r) => opts.refuseRefs!.test(r))) return reject(403);
        // Without CONTENT_LENGTH http-backend reads the body to EOF: that covers chunked and inflated bodies.
        const length = gzip ? undefined : req.headers['content-length'];
        runCgi(req, res, record, { body, head, length }, pathInfo, query);
      },
      () => reject(400),
    );
  }

  function runCgi(
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    { body, head, length }: { body: Readable; head: Buffer; length: string | undefined },
    pathInfo: string,
    query: string,
  ): void {
    const env: NodeJS.ProcessEnv = {
      ...gitEnv,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    };
    if (length !== undefined) env.CONTENT_LENGTH = length;
    if (typeof req.headers['git-protocol'] === 'string') env.HTTP_GIT_PROTOCOL = req.headers['git-protocol'];
    // Own process group, so a kill also reaches the upload-pack/receive-pack it starts.
    const child = spawn('git', ['http-backend'], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    children.set(child, new Promise((done) => child.on('close', () => done())));
    child.on('close', () => children.delete(child));
    // Client gone before the answer was complete: nothing may outlive the request. After a complete
    // answer receive-pack may still be finishing its ref update; killing it then would leave a
    // stale ref lock behind and fail every later push.
    res.on('close', () => {
      if (!res.writableFinished) killGroup(child);
    });
    child.stdin!.on('error', () => {}); // the CGI may answer without reading all of the body
    body.on('error', () => killGroup(child));
    child.stdin!.write(head);
    if (body.readableEnded) child.stdin!.end();
    else body.pipe(child.stdin!);

    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let pending: Buffer | null = Buffer.alloc(0); // CGI header block, until it is complete
    child.stdout!.on('data', (chunk: Buffer) => {
      let out = chunk;
      if (pending) {
        pending = Buffer.concat([pending, chunk]);
        const end = headerEnd(pending);
        if (!end) return;
        writeCgiHead(res, pending.subarray(0, end.at).toString('latin1'));
        out = pending.subarray(end.at + end.length);
        pending = null;
      }
      record.outBytes += out.length;
      if (out.length && !res.write(out)) {
        child.stdout!.pause();
        res.once('drain', () => child.stdout!.resume());
      }
    });
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (code) => {
      if (pending) res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`git http-backend: ${stderr}`);
      else if (code === 0) res.end();
      else res.destroy(); // a cut-off answer must not look complete
    });
  }

  function killGroup(child: ChildProcess): void {
    if (child.pid === undefined || !children.has(child)) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    pushedBytes: () =>
      requests
        .filter((r) => r.method === 'POST' && r.path.split('?')[0]!.endsWith('/git-receive-pack'))
        .reduce((sum, r) => sum + r.inBytes, 0),
    failNext(re, status, count = 1) {
      failures.push({ re, status, count });
    },
    createRepo(name) {
      const dir = join(root, `${name}.git`);
      for (const args of [
        ['init', '-q', '--bare', '--initial-branch=main', dir],
        ['-C', dir, 'config', 'http.receivepack', 'true'],
        // No background gc after a push: it would outlive the request and race the next push.
        ['-C', dir, 'config', 'receive.autogc', 'false'],
      ]) {
        const r = spawnSync('git', args, { env: gitEnv, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
      }
      return dir;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const child of children.keys()) killGroup(child);
      await Promise.all([closed, ...children.values()]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Where the CGI header block ends: the first empty line, CRLF or LF style. */
function headerEnd(buf: Buffer): { at: number; length: number } | undefined {
  const ends = [
    { at: buf.indexOf('\r\n\r\n'), length: 4 },
    { at: buf.indexOf('\n\n'), length: 2 },
  ].filter((e) => e.at >= 0);
  return ends.sort((a, b) => a.at - b.at)[0];
}

function writeCgiHead(res: ServerResponse, block: string): void {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  res.writeHead(status, headers);
}

/**
 * Reads a receive-pack request up to the end of its command list and returns the bytes read
 * (to be replayed to the CGI) and the refs it updates. Limits, on purpose: only the
 * "<old-oid> <new-oid> <ref>" pkt-lines before the first flush are read ("shallow" lines are
 * skipped); a push certificate (push-cert, `git push --signed`) is not parsed, so its refs are not
 * checked; a malformed length ends the list, and git itself then rejects the request.
 */
function readCommands(body: Readable): Promise<{ head: Buffer; refs: string[] }> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const finish = (refs: string[]) => {
      body.off('data', onData).off('end', onEnd).off('error', reject);
      body.pause();
      resolve({ head, refs });
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const list = parseCommands(head);
      if (list.complete) finish(list.refs);
    };
    const onEnd = () => finish(parseCommands(head).refs);
    body.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

function parseCommands(buf: Buffer): { refs: string[]; complete: boolean } {
  const refs: string[] = [];
  for (let pos = 0; pos + 4 <= buf.length; ) {
    const len = parseInt(buf.toString('latin1', pos, pos + 4), 16);
    if (!(len >= 4)) return { refs, complete: true }; // flush-pkt (0000), or not a pkt-line at all
    if (pos + len > buf.length) break;
    const line = buf.toString('latin1', pos + 4, pos + len).split('\0')[0]!.replace(/\n$/, '');
    const m = /^[0-9a-f]{40,64} [0-9a-f]{40,64} (.+)$/.exec(line);
    if (m) refs.push(m[1]!);
    else if (!line.startsWith('shallow ')) return { refs, complete: true };
    pos += len;
  }
  return { refs, complete: false };
}
