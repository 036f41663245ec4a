/* nginx for the two-node tests and benchmark (nginx.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "nginx.h"

static pid_t nginx_pid;
static char nginx_dir[] = "/tmp/easd-nginx-XXXXXX";

int
harness_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool
accepts(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

void
harness_nginx_stop(void)
{
	if (nginx_pid > 0) {
		kill(nginx_pid, SIGTERM);
		waitpid(nginx_pid, NULL, 0);
		nginx_pid = 0;
	}
	if (strchr(nginx_dir, 'X') == NULL) {
		harness_rmtree(nginx_dir);
		strcpy(nginx_dir + strlen(nginx_dir) - 6, "XXXXXX");
	}
}

const char *
harness_nginx_start(int port1, int port2)
{
	static char url[64];
	static bool at_exit;
	char path[128];
	FILE *f;
	int port;

	if (access("/usr/sbin/nginx", X_OK) != 0 || mkdtemp(nginx_dir) == NULL)
		return NULL;
	if (!at_exit && atexit(harness_nginx_stop) == 0)
		at_exit = true;
	port = harness_free_port();
	snprintf(path, sizeof(path), "%s/nginx.conf", nginx_dir);
	f = fopen(path, "w");
	if (f == NULL || port < 0) {
		if (f != NULL)
			fclose(f);
		harness_nginx_stop();
		return NULL;
	}
	fprintf(f,
		"error_log %1$s/error.log;\n"
		"pid %1$s/nginx.pid;\n"
		"worker_processes 1;\n"
		"events { worker_connections 1024; }\n"
		"http {\n"
		"  access_log off;\n"
		"  client_body_temp_path %1$s/body;\n"
		"  proxy_temp_path %1$s/proxy;\n"
		"  fastcgi_temp_path %1$s/fastcgi;\n"
		"  uwsgi_temp_path %1$s/uwsgi;\n"
		"  scgi_temp_path %1$s/scgi;\n"
		"  upstream easd {\n"
		"    server 127.0.0.1:%2$d;\n"
		"    server 127.0.0.1:%3$d;\n"
		"    keepalive 32;\n"
		"  }\n"
		"  server {\n"
		"    listen 127.0.0.1:%4$d;\n"
		"    location / {\n"
		"      proxy_pass http://easd;\n"
		"      proxy_http_version 1.1;\n"
		"      proxy_set_header Connection \"\";\n"
		"      proxy_read_timeout 3700s;\n"
		"      proxy_buffering off;\n"
		"    }\n"
		"  }\n"
		"}\n",
		nginx_dir, port1, port2, port);
	fclose(f);
	fflush(stdout);
	fflush(stderr);
	nginx_pid = fork();
	if (nginx_pid == 0) {
		execl("/usr/sbin/nginx", "nginx", "-p", nginx_dir, "-c", path,
		      "-g", "daemon off;", (char *)NULL);
		_exit(127);
	}
	/* bounded: nginx listens within moments or has failed */
	for (int i = 0; i < 600 && !accepts(port); i++) {
		if (waitpid(nginx_pid, NULL, WNOHANG) == nginx_pid) {
			nginx_pid = 0;
			harness_nginx_stop();
			return NULL;
		}
		usleep(50 * 1000);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	return url;
}
