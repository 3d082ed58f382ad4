/* porter: answer HTTP requests on many ports with a fixed body per port, the way
 * the upstream e2e "porter" server is configured:
 *
 *   SERVE_PORT_<N>=<body>       plain HTTP on port N
 *   SERVE_TLS_PORT_<N>=<body>   HTTPS on port N, with a self-signed certificate made
 *                               at start (no files to ship), or CERT_FILE/KEY_FILE
 *
 * Every request, whatever its method and path, gets 200 and the body (none for
 * HEAD); a body starting with '<' is sent as text/html. One process per connection.
 */
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_PORTS 64

struct listener { int fd, port, tls; const char *body; };

extern char **environ;

static SSL_CTX *tls_context(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *cert = getenv("CERT_FILE"), *key = getenv("KEY_FILE");
    if (cert && key) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) goto fail;
        return ctx;
    }
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!pkey || !x) goto fail;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (!X509_sign(x, pkey, EVP_sha256()) || SSL_CTX_use_certificate(ctx, x) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, pkey) != 1) goto fail;
    return ctx;
fail:
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* Reads the request head (and a Content-Length body, discarded); returns whether
 * the method is HEAD, or -1 when the request did not arrive. */
static int read_request(SSL *ssl, int fd) {
    char buf[8192];
    size_t got = 0;
    char *end = NULL;
    while (!end && got < sizeof buf - 1) {
        int n = ssl ? SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - got)) : (int)read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0) return -1;
        got += (size_t)n;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return -1;
    long left = 0;
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "content-length:", 15) == 0) left = atol(h + 17);
    left -= (long)(got - (size_t)(end + 4 - buf));
    while (left > 0) {
        int n = ssl ? SSL_read(ssl, buf, sizeof buf) : (int)read(fd, buf, sizeof buf);
        if (n <= 0) break;
        left -= n;
    }
    return strncmp(buf, "HEAD ", 5) == 0;
}

static void serve(struct listener *l, int fd, SSL_CTX *ctx) {
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL *ssl = NULL;
    if (l->tls) {
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) return;
    }
    int head = read_request(ssl, fd);
    if (head < 0) return;
    char out[16384];
    size_t len = strlen(l->body);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     l->body[0] == '<' ? "text/html; charset=utf-8" : "text/plain; charset=utf-8", len,
                     head ? "" : l->body);
    if (n > (int)sizeof out) n = sizeof out;
    if (ssl) {
        SSL_write(ssl, out, n);
        SSL_shutdown(ssl);
    } else {
        write(fd, out, (size_t)n);
    }
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        perror("porter: listen");
        exit(1);
    }
    return fd;
}

int main(void) {
    struct listener ls[MAX_PORTS];
    struct pollfd pfd[MAX_PORTS];
    int n = 0, tls = 0;
    for (char **e = environ; *e && n < MAX_PORTS; e++) {
        int is_tls = strncmp(*e, "SERVE_TLS_PORT_", 15) == 0;
        if (!is_tls && strncmp(*e, "SERVE_PORT_", 11) != 0) continue;
        const char *num = *e + (is_tls ? 15 : 11), *eq = strchr(num, '=');
        if (!eq) continue;
        ls[n] = (struct listener){.fd = listen_on(atoi(num)), .port = atoi(num), .tls = is_tls, .body = eq + 1};
        pfd[n] = (struct pollfd){.fd = ls[n].fd, .events = POLLIN};
        tls |= is_tls;
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "porter: no SERVE_PORT_<N> or SERVE_TLS_PORT_<N> in the environment\n");
        return 2;
    }
    SSL_CTX *ctx = tls ? tls_context() : NULL;
    signal(SIGCHLD, SIG_IGN);   /* children are reaped by the kernel */
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n; i++) printf("porter: serving %s on %d\n", ls[i].tls ? "https" : "http", ls[i].port);
    for (;;) {
        if (poll(pfd, (nfds_t)n, -1) < 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            int fd = accept(ls[i].fd, NULL, NULL);
            if (fd < 0) continue;
            if (fork() == 0) {
                serve(&ls[i], fd, ctx);
                _exit(0);
            }
            close(fd);
        }
    }
}
