// A real dynamic import: some dependencies are ESM-only and this project compiles to CommonJS.
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(s: string) => Promise<T>;

/** Loads an ESM-only package: `require` where the runtime allows it (Node ≥ 20.19, jest), else `import()`. */
export async function loadEsm<T>(name: string): Promise<T> {
  try {
    return require(name) as T;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
    return importEsm<T>(name);
  }
}
