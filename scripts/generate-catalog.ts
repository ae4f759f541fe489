import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_PATTERN_DIR } from '../functions/catalog/builtin-patterns';
import { loadCatalog } from '../functions/catalog/catalog';
import { renderCatalogMarkdown } from '../functions/catalog/catalog-markdown';

/** Where the generated catalog table lives. */
export const CATALOG_MD = join(BUILTIN_PATTERN_DIR, 'CATALOG.md');

writeFileSync(CATALOG_MD, renderCatalogMarkdown(loadCatalog()));
console.log(`wrote ${CATALOG_MD}`);
