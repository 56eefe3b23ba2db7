import type { Argv, CommandModule } from 'yargs';
import { formatInfo, getInfo } from '../info.js';

export const infoCommand: CommandModule<object, { json: boolean }> = {
  command: 'info',
  describe: 'Show the native variant, the llama.cpp release, backends, CUDA devices and thread defaults',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'print as JSON' }),
  handler: async (argv) => {
    const info = await getInfo();
    process.stdout.write(argv.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInfo(info)}\n`);
  },
};
