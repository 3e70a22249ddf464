// FilterInterpreter: work in progress.
