// Where a secret comes from, in order: the environment (KEY, then ORCHESTRATOR_KEY), the repo's
// store, the legacy `openssl enc` files, the user's global store, and for git-host tokens
// `git credential fill`. The first source that holds the name serves it. A source that would have
// to be opened and cannot be (no passphrase, a wrong one) stops the lookup with that error rather
// than letting a later source answer in its place.
import { existsSync } from 'node:fs';
import type { RepoPaths } from '../store/paths.ts';
import { credentialHost, gitCredentialFill, isGitTokenName } from './credential.ts';
import { globalStore, legacyFiles, readBytes, readStore, repoStore, type LegacyFile, type StoreFile } from './store-file.ts';
import type { Unlocker } from './unlock.ts';

export type SourceKind = 'env' | 'repo' | 'legacy' | 'global' | 'git-credential';

export interface Found {
  name: string;
  value: string;
  source: SourceKind;
  /** The variable, file or host it came from. */
  from: string;
}

/** One file-backed source and what is known about it without asking anyone. */
export interface Inventory {
  source: 'repo' | 'legacy' | 'global';
  file: string;
  exists: boolean;
  /** Names it holds; null when it could not be opened (see problem). */
  names: string[] | null;
  problem?: { code: string; message: string };
}

/** Which source serves a name, without its value. */
export interface KeySource {
  name: string;
  /** Null: no source holds it, as far as the readable ones tell. */
  source: SourceKind | null;
  from: string | null;
  /** Later sources that hold it too: the one serving it shadows them. */
  shadows: string[];
  /** Files before the serving source that could not be read: one of them might hold it instead. */
  unknown: string[];
}

export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Every name a secret may have: one a shell can export. */
export function isValidSecretName(name: string): boolean {
  return NAME_RE.test(name);
}

/** The variables that serve a name: KEY, then ORCHESTRATOR_KEY (unless KEY already starts so). */
export function envNames(name: string): string[] {
  return name.startsWith('ORCHESTRATOR_') ? [name] : [name, `ORCHESTRATOR_${name}`];
}

export class SecretSources {
  readonly repo: StoreFile;
  readonly global: StoreFile;
  readonly legacy: LegacyFile[];
  private readonly opened = new Map<string, Map<string, string>>();

  constructor(
    private readonly paths: RepoPaths,
    private readonly env: NodeJS.ProcessEnv,
    private readonly unlocker: Unlocker,
  ) {
    this.repo = repoStore(paths);
    this.global = globalStore(env);
    this.legacy = legacyFiles(paths);
  }

  /** KEY, else ORCHESTRATOR_KEY; an empty variable counts as unset. */
  fromEnv(name: string): Found | null {
    for (const v of envNames(name)) {
      const value = this.env[v];
      if (value) return { name, value, source: 'env', from: v };
    }
    return null;
  }

  /** Resolves one name through every source; null when none holds it. */
  async get(name: string, opts: { gitCredential: boolean }): Promise<Found | null> {
    const env = this.fromEnv(name);
    if (env) return env;
    const repo = await this.fromStore(this.repo, name);
    if (repo) return repo;
    for (const file of this.legacy) {
      const secrets = await this.openLegacy(file);
      const value = secrets?.get(name);
      if (value !== undefined) return { name, value, source: 'legacy', from: file.shown };
    }
    const global = await this.fromStore(this.global, name);
    if (global) return global;
    if (opts.gitCredential && isGitTokenName(name)) {
      const host = credentialHost(name, this.paths.root);
      const value = gitCredentialFill(host, this.paths.root, this.env);
      if (value) return { name, value, source: 'git-credential', from: host };
    }
    return null;
  }

  /** Every name the files hold, in source order; throws when one cannot be opened. */
  async allNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const n of readStore(this.repo)?.envelope.names ?? []) names.add(n);
    for (const file of this.legacy) for (const n of (await this.openLegacy(file))?.keys() ?? []) names.add(n);
    for (const n of readStore(this.global)?.envelope.names ?? []) names.add(n);
    return [...names];
  }

  /**
   * What each file-backed source holds, in source order, without failing on one that cannot be
   * opened (it is listed with its problem). Stores are always listed; legacy files when present.
   */
  async inventory(): Promise<Inventory[]> {
    const out: Inventory[] = [];
    const entry = async (source: Inventory['source'], file: string, names: () => Promise<string[] | null>) => {
      try {
        const held = await names();
        out.push({ source, file, exists: held !== null, names: held ?? [] });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        out.push({ source, file, exists: true, names: null, problem: { code: e.code ?? 'ERROR', message: e.message ?? String(err) } });
      }
    };
    await entry('repo', this.repo.shown, async () => readStore(this.repo)?.envelope.names ?? null);
    for (const file of this.legacy) {
      if (existsSync(file.path)) await entry('legacy', file.shown, async () => [...((await this.openLegacy(file))?.keys() ?? [])]);
    }
    await entry('global', this.global.shown, async () => readStore(this.global)?.envelope.names ?? null);
    return out;
  }

  /** Which source serves each name, from an inventory (never opens anything the inventory did not). */
  serving(names: string[], inv: Inventory[], opts: { gitCredential: boolean }): KeySource[] {
    return names.map((name) => {
      const holders: { source: SourceKind; from: string; at: number }[] = [];
      const env = this.fromEnv(name);
      if (env) holders.push({ source: 'env', from: env.from, at: -1 });
      inv.forEach((i, at) => {
        if (i.names?.includes(name)) holders.push({ source: i.source, from: i.file, at });
      });
      if (!holders.length && opts.gitCredential && isGitTokenName(name)) {
        const host = credentialHost(name, this.paths.root);
        if (gitCredentialFill(host, this.paths.root, this.env)) holders.push({ source: 'git-credential', from: host, at: inv.length });
      }
      const served = holders[0];
      const before = served ? served.at : inv.length;
      return {
        name,
        source: served?.source ?? null,
        from: served?.from ?? null,
        shadows: holders.slice(1).map((h) => h.from),
        unknown: inv.slice(0, Math.max(0, before)).filter((i) => i.names === null).map((i) => i.file),
      };
    });
  }

  /** Opens a store fully (for doctor): the number of secrets, or throws. */
  async verifyStore(file: StoreFile): Promise<number> {
    const loaded = readStore(file);
    if (!loaded) return 0;
    return (await this.unlocker.openStore(loaded.envelope, file.shown)).secrets.size;
  }

  private async fromStore(file: StoreFile, name: string): Promise<Found | null> {
    const loaded = readStore(file);
    // The names are readable: a store that does not hold this one is never opened (no passphrase needed).
    if (!loaded || !loaded.envelope.names.includes(name)) return null;
    let secrets = this.opened.get(file.path);
    if (!secrets) {
      secrets = (await this.unlocker.openStore(loaded.envelope, file.shown)).secrets;
      this.opened.set(file.path, secrets);
    }
    const value = secrets.get(name);
    return value === undefined ? null : { name, value, source: file.scope, from: file.shown };
  }

  private async openLegacy(file: LegacyFile): Promise<Map<string, string> | null> {
    const cached = this.opened.get(file.path);
    if (cached) return cached;
    const bytes = readBytes(file.path, file.shown);
    if (bytes === null) return null;
    const secrets = await this.unlocker.openLegacy(bytes, file.shown);
    this.opened.set(file.path, secrets);
    return secrets;
  }
}
