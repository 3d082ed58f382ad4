/* udp: the UDP half of a network test image (busybox nc has no UDP mode).
 *
 *   udp serve PORT            answer each datagram: "hostname" -> the host name,
 *                             "echo TEXT" -> TEXT, anything else -> itself
 *   udp dial HOST PORT MSG    send MSG, print the first answer; retries for up to
 *                             [-t SECONDS] (default 5), exits 1 without an answer
 *
 * Static, libc only, IPv4 dotted addresses only (no resolver: nothing to link).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int usage(void) {
    fprintf(stderr, "usage: udp serve PORT | udp dial [-t SECONDS] HOST PORT MESSAGE\n");
    return 2;
}

static int serve(int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("udp serve: bind");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("udp serve: listening on %d\n", port);
    char in[2048], out[2048];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(s, in, sizeof in - 1, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("udp serve: recvfrom");
            return 1;
        }
        while (n > 0 && (in[n - 1] == '\n' || in[n - 1] == '\r')) n--;
        in[n] = 0;
        size_t len;
        if (strcmp(in, "hostname") == 0) {
            if (gethostname(out, sizeof out) < 0) strcpy(out, "?");
            len = strlen(out);
        } else if (strncmp(in, "echo ", 5) == 0) {
            len = (size_t)n - 5;
            memcpy(out, in + 5, len);
        } else {
            len = (size_t)n;
            memcpy(out, in, len);
        }
        sendto(s, out, len, 0, (struct sockaddr *)&peer, plen);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int dial(const char *host, int port, const char *msg, double timeout) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "udp dial: %s is not an IPv4 address\n", host);
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    /* connect: only the dialled address's answers are read, and an ICMP
     * port-unreachable shows up as ECONNREFUSED instead of a silent wait */
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("udp dial: connect");
        return 1;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 500000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    double deadline = now() + timeout;
    char buf[2048];
    do {
        send(s, msg, strlen(msg), 0);
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n >= 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            putchar('\n');
            return 0;
        }
        if (errno == ECONNREFUSED) usleep(200000);   /* nothing listens yet */
    } while (now() < deadline);
    fprintf(stderr, "udp dial: no answer from %s:%d\n", host, port);
    return 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
    if (argc >= 5 && strcmp(argv[1], "dial") == 0) {
        double timeout = 5;
        int i = 2;
        if (strcmp(argv[i], "-t") == 0 && argc == 7) {
            timeout = atof(argv[i + 1]);
            i += 2;
        }
        if (argc - i == 3) return dial(argv[i], atoi(argv[i + 1]), argv[i + 2], timeout);
    }
    return usage();
}
