#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { asCliError, DEFAULT_URL } from './command-context.js';
import { registerChangeCommands } from './commands/change-commands.js';
import { registerChallengerCommands } from './commands/challenger-commands.js';
import { registerDriftCommand } from './commands/drift-command.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { registerPlanCommands } from './commands/plan-commands.js';
import { registerReadCommands } from './commands/read-commands.js';
import { registerReleaseCommands } from './commands/release-commands.js';
import { registerPartitionCommands } from './commands/partition-commands.js';
import { registerServerCommands } from './commands/server-commands.js';
import { registerStatusCommand } from './commands/status-command.js';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { printError, terminalText } from './terminal-output.js';

const ENVIRONMENT_HELP = `Environment:
  SHADOWGATE_URL  the controller (default ${DEFAULT_URL}); --url wins
  SHADOWGATE_KEY  the API key (a key on the command line is visible to other users); --key wins
  serve and migrate read the controller's own configuration (README "Configuration").`;

/** The shadowgate command line: every command, its options and the help texts. */
function createProgram(): Command {
  const program = new Command('shadowgate')
    .description('Shadowgate: roll out AI systems one use case at a time, on evidence.')
    .option('--url <url>', 'the controller (default: SHADOWGATE_URL, else http://127.0.0.1:8080)')
    .option('--key <key>', 'API key (default: SHADOWGATE_KEY)')
    // Settings made before .command() are inherited by every subcommand.
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(terminalText(`shadowgate: ${text.replace(/^error: /, '')}`)),
    })
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}`);
  registerServerCommands(program);
  registerPartitionCommands(program);
  registerPlanCommands(program);
  registerStatusCommand(program);
  registerReleaseCommands(program);
  registerChallengerCommands(program);
  registerDriftCommand(program);
  registerChangeCommands(program);
  registerReadCommands(program);
  registerKeyCommands(program);
  return program;
}

/** Writes what went wrong to stderr (commander has already written its own) and picks the exit code. */
function exitCodeFor(thrown: unknown): ExitCode {
  const error = asCliError(thrown);
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    const details = error.details.map((d) => `  ${d}\n`).join('');
    printError(`shadowgate: ${error.message}\n${details}`);
    return error.exitCode;
  }
  printError(`shadowgate: internal error: ${(error as Error)?.stack ?? String(error)}`);
  return EXIT.internal;
}

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = exitCodeFor(error);
  });
