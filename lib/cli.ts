#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { IroError } from './errors.js';
import { commands } from './commands/index.js';

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('iro-native')
    .usage('$0 <command> [options]\n\nInference-time alignment (IRO) for frozen llama.cpp models.')
    .strict()
    .demandCommand(1, 'a command is required')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .epilog('Environment: IRO_THREADS (compute threads), IRO_NATIVE_VARIANT=cpu|cuda13 (force a native variant), IRO_LLAMA_LOG=1 (llama.cpp logs).')
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`iro-native: ${msg}\nRun "iro-native --help" for usage.\n`);
      process.exit(2);
    });
  for (const c of commands) cli = cli.command(c as never);
  await cli.parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof IroError) {
    process.stderr.write(`iro-native: ${e.message} [${e.code}]\n`);
    process.exitCode = e.code === 'ABORTED' ? 130 : 1;
  } else {
    process.stderr.write(`iro-native: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
});
