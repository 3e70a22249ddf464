// FilterJIT: work in progress.
