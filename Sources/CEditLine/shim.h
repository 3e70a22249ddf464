// libedit (Debian's libedit-dev): line editing and history for the REPL on a terminal.
#include <stdio.h>
#include <editline/readline.h>
