// An esbuild plugin that embeds heavy dependencies as STRINGS and compiles them on first use.
// V8 must pre-parse every function of a script at start-up, which cost ~10 ms for the 115 KB
// `yaml` package alone. A plain string literal is cheaper but not free: embedding isomorphic-git
// (270 KB) as one added ~10 ms of compile and 4 ms of reading to every start. So the source is
// brotli-compressed and base64-encoded (about a fifth of the size) and decompressed on first use.
// Each lazy module is bundled on its own, and the import is replaced by a stub whose exports are
// getters that evaluate the embedded source the first time any of them is read. Still one file.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { brotliCompressSync, constants } from 'node:zlib';

export function lazyModules(names, { root, minify }) {
  const require = createRequire(`${root}/package.json`);
  return {
    name: 'lazy-modules',
    setup(pluginBuild) {
      const filter = new RegExp(`^(${names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
      pluginBuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lazy-module' }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-module' }, async (args) => {
        const inner = await build({
          absWorkingDir: root,
          stdin: { contents: `module.exports = require(${JSON.stringify(args.path)});`, resolveDir: root, loader: 'js' },
          bundle: true,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          minify,
          legalComments: 'none',
          write: false,
        });
        const packed = brotliCompressSync(Buffer.from(inner.outputFiles[0].text), {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
        }).toString('base64');
        const keys = Object.keys(require(args.path)).filter((k) => k !== 'default' && k !== '__esModule');
        const contents = `
const packed = ${JSON.stringify(packed)};
let loaded;
function load() {
  if (!loaded) {
    const source = require('node:zlib').brotliDecompressSync(Buffer.from(packed, 'base64')).toString();
    const m = { exports: {} };
    require('node:vm').runInThisContext('(function (module, exports, require) {' + source + '\\n})', { filename: 'lazy:${args.path}' })(m, m.exports, require);
    loaded = m.exports;
  }
  return loaded;
}
for (const key of ${JSON.stringify(keys)}) Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key] });
`;
        return { contents, loader: 'js', resolveDir: root };
      });
    },
  };
}
