// The I/O floor of a batch run (benchmarks/batch.py): the same file traffic as `filterjit run --output-dir`
// with nothing else. THREADS threads take the files of SRC in turn; each reads a file whole into a buffer it
// reuses, writes those bytes to a new hidden temporary in DST (O_EXCL), closes it and renames it onto
// DST/name, as FilterJIT's nothing-lost writes do (no fsync, as there). Prints the wall time in ms.
//
// Usage: io_floor SRC DST THREADS     (cc -O2 -o io_floor io_floor.c -lpthread)
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char **names;
static int count, next;
static const char *source, *destination;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *unused) {
    (void)unused;
    size_t capacity = 1 << 20;
    char *buffer = malloc(capacity);
    for (;;) {
        pthread_mutex_lock(&lock);
        int index = next++;
        pthread_mutex_unlock(&lock);
        if (index >= count) break;
        char path[4096], temporary[4096], target[4096];
        snprintf(path, sizeof path, "%s/%s", source, names[index]);
        int descriptor = open(path, O_RDONLY | O_CLOEXEC);
        if (descriptor < 0) { perror(path); exit(1); }
        size_t filled = 0;
        for (;;) {
            if (filled == capacity) buffer = realloc(buffer, capacity *= 2);
            ssize_t got = read(descriptor, buffer + filled, capacity - filled);
            if (got <= 0) break;
            filled += (size_t)got;
        }
        close(descriptor);
        snprintf(target, sizeof target, "%s/%s", destination, names[index]);
        snprintf(temporary, sizeof temporary, "%s/.%s.tmp-%d-%d", destination, names[index], (int)getpid(), index);
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (descriptor < 0 || write(descriptor, buffer, filled) != (ssize_t)filled || close(descriptor) != 0
            || rename(temporary, target) != 0) {
            perror(target);
            exit(1);
        }
    }
    free(buffer);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: io_floor SRC DST THREADS\n"); return 2; }
    source = argv[1];
    destination = argv[2];
    int threads = atoi(argv[3]);
    if (threads < 1 || threads > 256) threads = 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    DIR *directory = opendir(source);
    if (!directory) { perror(source); return 1; }
    size_t room = 1024;
    names = malloc(room * sizeof *names);
    for (struct dirent *entry; (entry = readdir(directory));) {
        if (entry->d_name[0] == '.') continue;
        if ((size_t)count == room) names = realloc(names, (room *= 2) * sizeof *names);
        names[count++] = strdup(entry->d_name);
    }
    closedir(directory);
    pthread_t workers[256];
    for (int i = 0; i < threads; i++) pthread_create(&workers[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++) pthread_join(workers[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%.3f\n", (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6);
    return 0;
}
