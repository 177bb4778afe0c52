/*
 * metrics.c - the Prometheus endpoint (metrics_listen): a thread that
 * answers "GET /metrics" with stats_prometheus() and anything else with
 * 404.  One request per connection, short timeouts, so a slow or hostile
 * scraper cannot hold it; bind to loopback unless told otherwise.
 */
#include "autoconf.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "relayguard.h"
#include "stats.h"

static int listen_fd = -1;

/* Split "[HOST:]PORT" / "[v6]:PORT" into host (default 127.0.0.1) and port. */
static void
split_listen(const char *spec, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(spec, ':');

	snprintf(host, hsize, "127.0.0.1");
	if (colon == NULL) {
		snprintf(port, psize, "%s", spec);
		return;
	}
	snprintf(port, psize, "%s", colon + 1);
	if (spec[0] == '[' && colon > spec + 1 && colon[-1] == ']')
		snprintf(host, hsize, "%.*s", (int)(colon - spec - 2), spec + 1);
	else
		snprintf(host, hsize, "%.*s", (int)(colon - spec), spec);
}

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void
serve(int fd)
{
	struct timeval tv = {2, 0};
	char req[1024], head[200];
	char *body = NULL;
	size_t blen = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = read(fd, req, sizeof(req) - 1);
	if (n <= 0)
		return;
	req[n] = '\0';
	if (strncmp(req, "GET /metrics ", 13) != 0 && strncmp(req, "GET /metrics?", 13) != 0) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
					 "Content-Length: 10\r\nConnection: close\r\n\r\nnot found\n";

		write_all(fd, nf, sizeof(nf) - 1);
		return;
	}
	if (!stats_prometheus(&body, &blen)) {
		free(body);
		return;
	}
	snprintf(head, sizeof(head),
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    blen);
	write_all(fd, head, strlen(head));
	write_all(fd, body, blen);
	free(body);
}

static void *
metrics_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

bool
metrics_start(const char *spec)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], port[16];
	pthread_t tid;
	int on = 1;

	split_listen(spec, host, sizeof(host), port, sizeof(port));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		log_msg(LOG_ERR, "metrics_listen %s: cannot resolve %s", spec, host);
		return false;
	}
	listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(listen_fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(listen_fd, 16) != 0) {
		log_msg(LOG_ERR, "metrics_listen %s: cannot listen: %m", spec);
		freeaddrinfo(ai);
		return false;
	}
	freeaddrinfo(ai);
	if (pthread_create(&tid, NULL, metrics_thread, NULL) != 0)
		return false;
	pthread_detach(tid);
	log_msg(LOG_NOTICE, "metrics on http://%s:%s/metrics", host, port);
	return true;
}
