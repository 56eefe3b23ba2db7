import type { CommandModule } from 'yargs';
import { infoCommand } from './info.js';
import { forgeCommand } from './forge.js';

/** All CLI commands, in --help order. */
export const commands: CommandModule<any, any>[] = [infoCommand, forgeCommand];
