/**
 * Loads zod's English messages. Schemas use zod's tree-shakable "mini" build
 * (`import * as z from 'zod/mini'`): the classic `zod` entry, or re-exporting the `z`
 * namespace as a value, pulls every locale into the Lambda bundle (about 450 KB).
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
