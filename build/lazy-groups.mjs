// An esbuild plugin that embeds rarely used LOCAL code (a command and the modules only it uses) as
// a compressed string compiled on first import(), as lazy-modules.mjs does for packages: V8
// pre-parses every function of the bundle at every start, and `status` should not pay for
// `secrets` or `migrate`. Still one file.
//
// A group must never carry its own copy of a module the rest of the CLI uses: main.ts tests
// `instanceof OrchestratorError`, store/lock.ts keeps the set of locks to release on a signal. So:
// 1. A probe build of the CLI with the groups' entries left out lists the modules that stay in the
//    main bundle ("eager").
// 2. Each group is bundled on its own from its entries. An import of an eager module becomes one
//    `__orchestratorShared(KEY, NAME)` per export, marked pure so that the group keeps only those
//    it uses; a lazily embedded package (or a CommonJS module) becomes `__orchestratorShared(KEY)`,
//    its exports object, whose getters still load the package on first use. A module that two
//    groups reach is made eager too, so nothing has two instances.
// 3. In the CLI's build, an `import()` of an entry resolves to a stub that decompresses and
//    evaluates the group, handing it the exports it uses of the shared modules.
// A group's entry may only be reached by import(): a static import would evaluate it at start-up.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { relative, resolve, sep } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const SHARED = '__orchestratorShared';
const NS = 'lazy-group';
const RESOLVING = Symbol('resolving');
const BUILTINS = new Set(builtinModules);
const isBuiltin = (name) => name.startsWith('node:') || BUILTINS.has(name);

/**
 * groups: { name: [entry paths relative to root] }; entry: the CLI's entry point; options: the
 * esbuild options the CLI is built with; packages: the lazily embedded package names (shared
 * through their lazy-modules stubs, never bundled into a group).
 */
export async function lazyGroups(groups, { root, entry, options, packages }) {
  const key = (abs) => relative(root, abs).split(sep).join('/');
  const groupOf = new Map(Object.entries(groups).flatMap(([name, entries]) => entries.map((e) => [e, name])));

  // 1. What the main bundle has without the groups, and the exports of each of those modules.
  const imported = new Set();
  const probe = await build({
    ...options,
    entryPoints: [entry],
    write: false,
    metafile: true,
    minify: false,
    external: packages,
    plugins: [entryImports('lazy-groups-probe', (k) => (imported.add(k), { path: k, external: true }))],
  });
  const missing = [...groupOf.keys()].filter((e) => !imported.has(e));
  if (missing.length) throw new Error(`lazy groups: nothing in the CLI does import() of ${missing.join(', ')}`);
  const eager = new Set(Object.keys(probe.metafile.inputs));
  const esm = new Map(); // eager ES module -> its export names
  const listed = await build({
    ...options,
    entryPoints: [...eager].filter((m) => probe.metafile.inputs[m].format === 'esm'),
    format: 'esm',
    splitting: true,
    outdir: 'lazy-groups-exports', // not written
    write: false,
    metafile: true,
    minify: false,
    external: packages,
  });
  for (const out of Object.values(listed.metafile.outputs)) if (out.entryPoint) esm.set(out.entryPoint, out.exports);

  // 2. The groups; once more if some module is in two of them, with those modules eager (shared
  // whole: their exports were not listed).
  let bundles = await Promise.all(Object.keys(groups).map((name) => bundleGroup(name, eager)));
  const seen = new Set();
  const twice = new Set(bundles.flatMap((b) => b.modules).filter((m) => seen.has(m) || !seen.add(m)));
  for (const m of twice) eager.add(m);
  bundles = await Promise.all(bundles.map((b) => (b.modules.some((m) => twice.has(m)) ? bundleGroup(b.name, eager) : b)));
  const byName = new Map(bundles.map((b) => [b.name, b]));
  const grouped = new Set(bundles.flatMap((b) => b.modules));

  // 3. The plugin for the CLI's build.
  return {
    name: 'lazy-groups',
    setup(pluginBuild) {
      pluginBuild.initialOptions.metafile = true; // for the check below; changes no output byte
      entryImports('lazy-groups', (k) => ({ path: `entry:${k}`, namespace: NS })).setup(pluginBuild);
      pluginBuild.onResolve({ filter: /^lazy-group:/ }, (args) => ({ path: args.path.slice(NS.length + 1), namespace: NS }));
      pluginBuild.onLoad({ filter: /.*/, namespace: NS }, (args) => virtualModule(args.path));
      // Proof that no module is both in the main bundle and in a group.
      pluginBuild.onEnd((result) => {
        const both = Object.keys(result.metafile?.inputs ?? {}).filter((m) => grouped.has(m));
        if (both.length) return { errors: [{ text: `lazy groups: in the main bundle and in a group: ${both.join(', ')}` }] };
        return undefined;
      });
    },
  };

  /** Resolves `import()` of a group's entry with `resolved`; a static import of one is an error. */
  function entryImports(name, resolved) {
    return {
      name,
      setup(pluginBuild) {
        pluginBuild.onResolve({ filter: /^\.\.?\// }, (args) => {
          const k = key(resolve(args.resolveDir, args.path));
          if (!groupOf.has(k)) return undefined;
          if (args.kind !== 'dynamic-import') {
            return { errors: [{ text: `${k} is in the lazy group "${groupOf.get(k)}": ${key(args.importer)} must load it with import()` }] };
          }
          return resolved(k);
        });
      },
    };
  }

  /** Bundles one group: its modules, the shared exports it uses, its compressed source. */
  async function bundleGroup(name, eager) {
    const stdin = `lazy-group-${name}.js`;
    const share = (k) => ({ path: k, namespace: 'lazy-group-shared' });
    const result = await build({
      ...options,
      stdin: { contents: groups[name].map((e, i) => `export * as e${i} from './${e}';`).join('\n'), resolveDir: root, sourcefile: stdin, loader: 'js' },
      write: false,
      metafile: true,
      legalComments: 'none', // as in lazy-modules.mjs: nobody reads inside the compressed string
      plugins: [
        {
          name: 'lazy-group-shared',
          setup(groupBuild) {
            groupBuild.onResolve({ filter: /.*/ }, async (args) => {
              if (args.pluginData === RESOLVING || isBuiltin(args.path)) return undefined;
              if (packages.includes(args.path)) return share(args.path);
              const r = await groupBuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
              if (r.errors.length || r.external) return undefined;
              const k = key(r.path);
              const other = groupOf.get(k);
              if (other && other !== name) return { errors: [{ text: `lazy group "${name}" imports ${k} of group "${other}": put them in one group` }] };
              return eager.has(k) ? share(k) : undefined;
            });
            groupBuild.onLoad({ filter: /.*/, namespace: 'lazy-group-shared' }, ({ path: k }) => {
              const names = esm.get(k);
              const contents = names
                ? names.map((n, i) => `const x${i} = /* @__PURE__ */ ${SHARED}(${JSON.stringify(k)}, ${JSON.stringify(n)}); export { x${i} as ${n} };`).join('\n')
                : `module.exports = ${SHARED}(${JSON.stringify(k)});`;
              return { contents, loader: 'js' };
            });
          },
        },
      ],
    });
    const out = Object.values(result.metafile.outputs)[0];
    const foreign = out.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path);
    if (foreign.length) throw new Error(`lazy group "${name}" requires ${foreign.join(', ')} at run time`);
    const source = result.outputFiles[0].text;
    const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };
    const used = new Map(); // shared key -> the export names the group uses, or null: the whole module
    for (const m of source.matchAll(/__orchestratorShared\(("[^"]*")(?:,("[^"]*"))?\)/g)) {
      const k = JSON.parse(m[1]);
      used.set(k, m[2] === undefined ? null : [...new Set([...(used.get(k) ?? []), JSON.parse(m[2])])]);
    }
    return {
      name,
      modules: Object.keys(result.metafile.inputs).filter((m) => m !== stdin && !m.startsWith('lazy-group-shared:')),
      used,
      packed: brotliCompressSync(Buffer.from(source), { params }).toString('base64'),
    };
  }

  function virtualModule(path) {
    const js = (contents) => ({ contents, loader: 'js', resolveDir: root });
    if (path.startsWith('entry:')) {
      const entryKey = path.slice('entry:'.length);
      const name = groupOf.get(entryKey);
      return js(`module.exports = require(${JSON.stringify(`lazy-group:group:${name}`)}).group.e${groups[name].indexOf(entryKey)};`);
    }
    if (path.startsWith('group:')) {
      // The group, evaluated when this module is initialised, i.e. on the first import() of an
      // entry. It imports just the exports the group uses (an `import * as` would keep all of
      // zod/mini in the main bundle), so only the modules this group needs are initialised then.
      const { name, used, packed } = byName.get(path.slice('group:'.length));
      const keys = [...used.keys()].sort();
      const imports = keys.map((k, i) => (used.get(k) ? `import { ${used.get(k).map((n, j) => `${n} as s${i}_${j}`).join(', ')} } from ${JSON.stringify(`./${k}`)};` : ''));
      const table = keys.map((k, i) => {
        const names = used.get(k);
        const spec = JSON.stringify(packages.includes(k) ? k : `./${k}`);
        return `${JSON.stringify(k)}: ${names ? `{ ${names.map((n, j) => `${JSON.stringify(n)}: s${i}_${j}`).join(', ')} }` : `() => require(${spec})`}`;
      });
      return js(`${imports.join('\n')}
import { evaluate } from 'lazy-group:runtime';
export const group = evaluate(${JSON.stringify(name)}, ${JSON.stringify(packed)}, {
  ${table.join(',\n  ')},
});
`);
    }
    // The runtime: decompresses a group and runs it with the shared modules. A module shared
    // whole (a lazily embedded package, a CommonJS module) comes as a function that requires it.
    return js(`
export function evaluate(name, packed, shared) {
  const source = require('node:zlib').brotliDecompressSync(Buffer.from(packed, 'base64')).toString();
  const m = { exports: {} };
  const wrapped = '(function (module, exports, require, ${SHARED}) {' + source + '\\n})';
  const get = (key, exported) => {
    const found = shared[key];
    if (exported === undefined) return found();
    if (!(exported in found)) throw new Error('lazy group ' + name + ': the build did not share ' + exported + ' of ' + key);
    return found[exported];
  };
  require('node:vm').runInThisContext(wrapped, { filename: 'lazy:' + name })(m, m.exports, require, get);
  return m.exports;
}
`);
  }
}
