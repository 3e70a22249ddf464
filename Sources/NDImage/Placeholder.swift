// NDImage: work in progress.
