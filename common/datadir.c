/* The data directory's checks: mode 0700 or refuse (with the chmod to
 * run), one server per directory through flock, files tightened to 0600
 * whatever umask or older version made them. */
#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int
datadir_check(const char *dir, bool create, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen,
				 "cannot use data directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		if (!create)
			return 1;
		/* umask may only take bits away: 0700 stays 0700 or less,
		 * and less is made whole below. */
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen,
				 "cannot create data directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		if (chmod(dir, 0700) < 0 || stat(dir, &st) < 0) {
			snprintf(err, errlen,
				 "cannot use data directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "data directory %s is not a directory",
			 dir);
		return -1;
	}
	if ((st.st_mode & 0077) != 0) {
		snprintf(err, errlen,
			 "data directory %s can be read by other users (mode "
			 "%04o): it holds password hashes and mail; run: "
			 "chmod 700 %s",
			 dir, (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

int
datadir_lock(const char *dir, long *holder_r, char *err, size_t errlen)
{
	char path[4096], pid[32];
	int fd, n;

	*holder_r = 0;
	n = snprintf(path, sizeof(path), "%s/%s", dir, DATADIR_LOCK_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t got;

		if (e != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", path,
				 strerror(e));
			close(fd);
			return -1;
		}
		/* Read only: the file belongs to the holder. */
		got = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[got > 0 ? got : 0] = '\0';
		*holder_r = strtol(pid, NULL, 10);
		close(fd);
		return -2;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, 0) < 0 ||
	    pwrite(fd, pid, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
datadir_tighten(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int changed = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

		if (n < 0 || (size_t)n >= sizeof(path) ||
		    lstat(path, &st) < 0 ||
		    (!S_ISREG(st.st_mode) && !S_ISSOCK(st.st_mode)) ||
		    (st.st_mode & 0077) == 0 || st.st_uid != geteuid())
			continue;
		if (chmod(path, 0600) < 0) {
			log_warn("cannot make %s private: %s", path,
				 strerror(errno));
			continue;
		}
		log_info("%s was mode %04o, now 0600", path,
			 (unsigned)(st.st_mode & 07777));
		changed++;
	}
	closedir(d);
	return changed;
}
