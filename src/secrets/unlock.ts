// Where passphrases come from: the environment, else a prompt when a human is at a terminal, else
// an error naming the variable to set. A passphrase typed once serves every file it opens in this
// process. Messages name files and variables, never a passphrase or a value.
import { CorruptFileError, PassphraseRequiredError, UsageError, WrongPassphraseError } from '../errors.ts';
import { openEnvelope, type StoreEnvelope } from './envelope.ts';
import { parseLegacyContent } from './legacy-content.ts';
import { decryptOpensslEnc, isOpensslSalted } from './openssl-enc.ts';

export const PASSPHRASE_VAR = 'ORCHESTRATOR_SECRETS_PASSWORD';
/** What the Python tool read its `.secrets.enc` password from; honoured for legacy files only. */
export const LEGACY_PASSPHRASE_VAR = 'SECRETS_PASSWORD';

/** Asks for a hidden line; null when nobody can answer (no TTY, or CI). */
export type Prompt = ((question: string) => Promise<string>) | null;

export class Unlocker {
  private readonly typed: string[] = [];
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly prompt: Prompt,
  ) {}

  /** Whether a passphrase for the store is available without asking. */
  get hasPassphrase(): boolean {
    return !!this.env[PASSPHRASE_VAR];
  }

  /** Opens one of our stores; returns its secrets and the passphrase that opened it. */
  async openStore(e: StoreEnvelope, shown: string): Promise<{ secrets: Map<string, string>; passphrase: string }> {
    const fromEnv = this.env[PASSPHRASE_VAR];
    if (fromEnv) {
      return { secrets: openEnvelope(e, fromEnv, shown, `set ${PASSPHRASE_VAR} to the passphrase it was written with`), passphrase: fromEnv };
    }
    for (const p of this.typed) {
      try {
        return { secrets: openEnvelope(e, p, shown, ''), passphrase: p };
      } catch (err) {
        if (!(err instanceof WrongPassphraseError)) throw err;
      }
    }
    const p = await this.ask(shown, `${shown} is encrypted`);
    const secrets = openEnvelope(e, p, shown, `run again and type the passphrase it was written with, or set ${PASSPHRASE_VAR}`);
    this.typed.push(p);
    return { secrets, passphrase: p };
  }

  /** Opens a legacy `openssl enc` file with ORCHESTRATOR_SECRETS_PASSWORD, SECRETS_PASSWORD or a typed password. */
  async openLegacy(bytes: Buffer, shown: string): Promise<Map<string, string>> {
    if (!isOpensslSalted(bytes)) {
      throw new CorruptFileError(`${shown}: not an \`openssl enc -salt\` file (no Salted__ header); restore it, or delete it and set its secrets with: orchestrator secrets set KEY`);
    }
    const vars = [PASSPHRASE_VAR, LEGACY_PASSPHRASE_VAR].filter((v) => this.env[v]);
    const tries = [...new Set([...vars.map((v) => this.env[v]!), ...this.typed])];
    for (const p of tries) {
      const text = decryptOpensslEnc(bytes, p);
      if (text !== null) return parseLegacyContent(text, shown);
    }
    if (vars.length) {
      throw new WrongPassphraseError(
        `wrong passphrase for ${shown}: ${vars.join(' and ')} do${vars.length === 1 ? 'es' : ''} not open it; set ${LEGACY_PASSPHRASE_VAR} or ${PASSPHRASE_VAR} to the password it was encrypted with (both are tried)`,
        { path: shown },
      );
    }
    const p = await this.ask(shown, `${shown} is encrypted (the Python tool's format)`, ` (or the Python tool's ${LEGACY_PASSPHRASE_VAR})`);
    const text = decryptOpensslEnc(bytes, p);
    if (text === null) throw new WrongPassphraseError(`wrong passphrase for ${shown}; run again and type the password it was encrypted with, or set ${PASSPHRASE_VAR}`, { path: shown });
    this.typed.push(p);
    return parseLegacyContent(text, shown);
  }

  /** The passphrase for a store that does not exist yet: the environment, or typed twice. */
  async newPassphrase(shown: string): Promise<string> {
    const fromEnv = this.env[PASSPHRASE_VAR];
    if (fromEnv) return fromEnv;
    if (!this.prompt) throw this.required(`${shown} will be encrypted`, '');
    const first = await this.prompt(`New passphrase for ${shown}: `);
    if (!first) throw new UsageError(`empty passphrase; nothing was changed (or set ${PASSPHRASE_VAR})`);
    const again = await this.prompt('The same passphrase again: ');
    if (again !== first) throw new UsageError('the two passphrases differ; nothing was changed');
    this.typed.push(first);
    return first;
  }

  private async ask(shown: string, what: string, alsoVar = ''): Promise<string> {
    if (!this.prompt) throw this.required(what, alsoVar);
    return this.prompt(`Passphrase for ${shown}: `);
  }

  private required(what: string, alsoVar: string): PassphraseRequiredError {
    return new PassphraseRequiredError(`${what} and no passphrase is set: set ${PASSPHRASE_VAR}${alsoVar}; orchestrator prompts only on a terminal, and never with CI set`, {
      variable: PASSPHRASE_VAR,
    });
  }
}
