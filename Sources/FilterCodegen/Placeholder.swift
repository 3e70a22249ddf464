// FilterCodegen: work in progress.
