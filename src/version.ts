// Replaced at build time with package.json's version (esbuild `define`); the fallback serves tests.
declare const __ORCHESTRATOR_VERSION__: string | undefined;
export const VERSION: string = typeof __ORCHESTRATOR_VERSION__ === 'string' ? __ORCHESTRATOR_VERSION__ : '0.0.0-dev';
