// What a snapshot archive holds and how it is laid out:
//   orchestrator-snapshot/manifest.json      this file list with sizes and sha256, the repo_id
//   orchestrator-snapshot/workflow.yaml      when the repo has one
//   orchestrator-snapshot/orchestrator/...   the persisted part of .orchestrator/ (+ secrets/)
import * as z from 'zod/mini';

export const SNAPSHOT_DIR = 'orchestrator-snapshot';
export const MANIFEST = 'manifest.json';
export const WORKFLOW = 'workflow.yaml';
/** .orchestrator/ inside the archive, without the dot so no tool hides it. */
export const CONTAINER = 'orchestrator';

export const FORMAT = 'orchestrator-snapshot' as const;

/**
 * Bounds shared by export and import, so every archive export writes can be imported: one file
 * at most 256 MiB, all files together 1 GiB, at most 100,000 entries, the manifest 64 MiB.
 */
export const LIMITS = { fileBytes: 256 << 20, totalBytes: 1 << 30, entries: 100_000, manifestBytes: 64 << 20 } as const;

export const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  repo_id: z.string().check(z.minLength(1)),
  created_at: z.string(),
  created_with: z.string(),
  includes_secrets: z.boolean(),
  /** Path under orchestrator-snapshot/ -> size and sha256 of every file in the archive but this one. */
  files: z.record(z.string(), z.object({ size: z.int().check(z.nonnegative()), sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) })),
});
export type Manifest = z.infer<typeof ManifestSchema>;
