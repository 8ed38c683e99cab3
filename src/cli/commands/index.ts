/**
 * The CLI's verbs, in the order `fimkit help` lists them. To add one, write
 * src/cli/commands/<verb>.ts exporting a Command and add it here.
 */
import type { Command } from '../command.js';
import { fisherCommand } from './fisher.js';
import { importCommand } from './import.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { mergeCommand } from './merge.js';
import { trainCommand } from './train.js';
import { studyCommand } from './study.js';
import { varianceCommand } from './variance.js';
import { rlCommand } from './rl.js';
import { cbinnCommand } from './cbinn.js';

export const COMMANDS: readonly Command[] = [studyCommand, trainCommand, fisherCommand, varianceCommand, mergeCommand, importCommand, serveCommand, infoCommand, rlCommand, cbinnCommand];
