import type { CommandModule } from 'yargs';
import { benchCommand } from './bench.js';
import { decodeCommand } from './decode.js';
import { forgeCommand } from './forge.js';
import { infoCommand } from './info.js';
import { trainCommand } from './train.js';

/** All CLI commands, in --help order. */
export const commands: CommandModule<any, any>[] = [benchCommand, trainCommand, decodeCommand, forgeCommand, infoCommand];
