import { type Catalog, compileCatalog } from '../core/catalog';
import { builtinPatternSources } from './builtin-patterns';
import { loadPatternDir } from './load-pattern-dir';

/**
 * The built-in catalog, plus user pattern directories that add patterns or override
 * built-ins with the same id (later directories win).
 * @throws PatternError for the first invalid file.
 */
export function loadCatalog(userDirs: readonly string[] = []): Catalog {
  return compileCatalog([...builtinPatternSources(), ...userDirs.flatMap((dir) => loadPatternDir(dir))]);
}
