/*
 * keygen.c: `infomorph keygen [--force] NAME`: a new CurveZMQ key pair for a
 * coordinator, a worker or a person's command, as two files:
 *
 *   NAME.key  the secret key, mode 0600: keep it where only its owner reads it
 *   NAME.pub  the public key: give it to the other side (the coordinator's to
 *             every worker and client; a worker's or client's into the
 *             coordinator's --worker-keys or --client-keys directory)
 *
 * Both are czmq's certificate format (curve_key.h): NAME.key holds the
 * public and the secret key, NAME.pub the public one, in Z85 (40
 * characters), so NAME.key alone is enough for its owner. Existing files are never overwritten
 * (exit status 1) unless --force is given; the secret key is written to a temporary file of mode
 * 0600 first and renamed, so it is never readable by others, not even for a moment.
 */
#include "cli.h"
#include "curve_key.h"
#include "im.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static const char help[] =
    "usage: infomorph keygen [--force] NAME\n\n"
    "Write a new CurveZMQ key pair: NAME.key (the secret key, mode 0600) and\n"
    "NAME.pub (the public key), in czmq's certificate format (keys in Z85).\n"
    "NAME may include a directory. The coordinator's NAME.pub goes\n"
    "to every worker and client (--server-key); a worker's or client's NAME.pub\n"
    "goes into the coordinator's --worker-keys or --client-keys directory.\n\n"
    "options:\n"
    "  --force   replace existing files\n"
    "  -h, --help  this text\n";

/* Write text to path with mode, through path.tmp and a rename; refuses an
 * existing path unless force. Returns CLI_OK or CLI_ERROR (message printed). */
static int write_key_file(const char *path, const char *text, mode_t mode, int force)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "infomorph keygen: the name '%s' is too long\n", path);
        return CLI_ERROR;
    }
    struct stat st;
    if (!force && lstat(path, &st) == 0) {
        fprintf(stderr, "infomorph keygen: '%s' exists; not replacing it (--force to do so)\n",
                path);
        return CLI_ERROR;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "infomorph keygen: unable to create '%s': %s\n", tmp, strerror(errno));
        return CLI_ERROR;
    }
    size_t len = strlen(text), done = 0;
    int failed = fchmod(fd, mode) != 0; /* the umask may have taken bits off */
    while (!failed && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            failed = 1;
        else
            done += (size_t)n;
    }
    if (!failed && fsync(fd) != 0) failed = 1;
    int e = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    /* link() fails if path appeared meanwhile: no replacing without --force */
    if (!failed && (force ? rename(tmp, path) : link(tmp, path)) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        fprintf(stderr, "infomorph keygen: unable to write '%s': %s\n", path, strerror(e));
        unlink(tmp);
        return CLI_ERROR;
    }
    if (!force) unlink(tmp);
    return CLI_OK;
}

int cli_keygen_main(int argc, char **argv)
{
    enum { OPT_FORCE = CLI_OPT_LONG };
    static const struct option longopts[] = {{"force", no_argument, NULL, OPT_FORCE},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int force = 0, c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return CLI_OK;
        }
        if (c == OPT_FORCE)
            force = 1;
        else
            return cli_bad_option("keygen", c, argv);
    }
    if (optind != argc - 1) {
        fprintf(stderr, "infomorph keygen: %s (infomorph keygen --help)\n",
                optind == argc ? "which name? e.g. infomorph keygen coordinator" : "one name only");
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    size_t n = strlen(name);
    if (n == 0 || name[n - 1] == '/') {
        fprintf(stderr, "infomorph keygen: '%s' is not a file name\n", name);
        return CLI_USAGE;
    }
    if (!zmq_has("curve")) {
        fprintf(stderr, "infomorph keygen: this libzmq was built without CURVE\n");
        return CLI_ERROR;
    }
    im_curve_key key;
    if (zmq_curve_keypair(key.public_z85, key.secret_z85) != 0) {
        fprintf(stderr, "infomorph keygen: unable to make a key pair: %s\n",
                zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    char key_path[4096], pub_path[4096], text[512];
    if (snprintf(key_path, sizeof key_path, "%s.key", name) >= (int)sizeof key_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", name) >= (int)sizeof pub_path) {
        fprintf(stderr, "infomorph keygen: the name '%s' is too long\n", name);
        return CLI_USAGE;
    }
    im_curve_key_format(&key, 1, text, sizeof text);
    int rc = write_key_file(key_path, text, 0600, force);
    explicit_bzero(text, sizeof text);
    explicit_bzero(key.secret_z85, sizeof key.secret_z85);
    if (rc != CLI_OK) return rc;
    im_curve_key_format(&key, 0, text, sizeof text);
    if ((rc = write_key_file(pub_path, text, 0644, force)) != CLI_OK) {
        unlink(key_path); /* no half pair */
        return rc;
    }
    printf("wrote %s (secret, mode 0600) and %s (public: %s)\n", key_path, pub_path,
           key.public_z85);
    return CLI_OK;
}
