/*
 * berth's one native module: the privileged system calls that Node.js lacks.
 * Every function is synchronous, throws an Error with .code = errno name on
 * failure, and takes only plain values (strings, numbers, Buffers).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <node_api.h>
#include <poll.h>
#include <termios.h>
#include <pthread.h>

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "berth_native: N-API call failed");      \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

/* Declares argc/argv and reads up to n JS arguments (argc: how many the caller passed). */
#define ARGS(n)                                                            \
  size_t argc = (n);                                                       \
  napi_value argv[n];                                                      \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

static napi_value throw_errno(napi_env env, const char *syscall, const char *path, int err) {
  char msg[4200];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, path ? path : "", strerror(err));
  napi_value code, message, error, errnum;
  const char *name = strerrorname_np(err);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_set_named_property(env, error, "code", code);
  napi_value sc;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

/* Copies argument i as a string into a malloc'd buffer; NULL for null/undefined. */
static char *arg_string(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t == napi_null || t == napi_undefined) return NULL;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static int64_t arg_int(napi_env env, napi_value v) {
  int64_t n = 0;
  napi_get_value_int64(env, v, &n);
  return n;
}

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *src = arg_string(env, argv[0]);
  char *target = arg_string(env, argv[1]);
  char *fstype = arg_string(env, argv[2]);
  unsigned long flags = (unsigned long)arg_int(env, argv[3]);
  char *data = argc > 4 ? arg_string(env, argv[4]) : NULL;
  int rc = mount(src, target, fstype, flags, data);
  int err = errno;
  napi_value ret = NULL;
  if (rc != 0) throw_errno(env, "mount", target, err);
  free(src); free(target); free(fstype); free(data);
  return ret;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *target = arg_string(env, argv[0]);
  int flags = argc > 1 ? (int)arg_int(env, argv[1]) : 0;
  int rc = umount2(target, flags);
  int err = errno;
  if (rc != 0) throw_errno(env, "umount2", target, err);
  free(target);
  return NULL;
}

/* mknod(path, mode, major, minor) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path = arg_string(env, argv[0]);
  mode_t mode = (mode_t)arg_int(env, argv[1]);
  unsigned int maj = (unsigned int)arg_int(env, argv[2]);
  unsigned int min = (unsigned int)arg_int(env, argv[3]);
  int rc = mknod(path, mode, makedev(maj, min));
  int err = errno;
  if (rc != 0) throw_errno(env, "mknod", path, err);
  free(path);
  return NULL;
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *path = arg_string(env, argv[0]);
  char *name = arg_string(env, argv[1]);
  void *data = NULL;
  size_t len = 0;
  napi_get_buffer_info(env, argv[2], &data, &len);
  int rc = lsetxattr(path, name, data, len, 0);
  int err = errno;
  if (rc != 0) throw_errno(env, "lsetxattr", path, err);
  free(path); free(name);
  return NULL;
}

/* lgetxattr(path, name) -> Buffer | null (null when the attribute is absent) */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]);
  char *name = arg_string(env, argv[1]);
  napi_value ret = NULL;
  ssize_t n = lgetxattr(path, name, NULL, 0);
  if (n < 0) {
    int err = errno;
    if (err == ENODATA || err == ENOTSUP) napi_get_null(env, &ret);
    else throw_errno(env, "lgetxattr", path, err);
  } else {
    void *buf = NULL;
    napi_create_buffer(env, (size_t)n, &buf, &ret);
    if (n > 0 && lgetxattr(path, name, buf, (size_t)n) < 0) {
      ret = NULL;
      throw_errno(env, "lgetxattr", path, errno);
    }
  }
  free(path); free(name);
  return ret;
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path = arg_string(env, argv[0]);
  napi_value arr = NULL;
  ssize_t n = llistxattr(path, NULL, 0);
  if (n < 0) {
    int err = errno;
    if (err == ENOTSUP) napi_create_array(env, &arr);
    else throw_errno(env, "llistxattr", path, err);
    free(path);
    return arr;
  }
  char *buf = malloc((size_t)n + 1);
  n = n > 0 ? llistxattr(path, buf, (size_t)n) : 0;
  napi_create_array(env, &arr);
  uint32_t idx = 0;
  for (ssize_t off = 0; off < n;) {
    size_t l = strlen(buf + off);
    napi_value s;
    napi_create_string_utf8(env, buf + off, l, &s);
    napi_set_element(env, arr, idx++, s);
    off += (ssize_t)l + 1;
  }
  free(buf); free(path);
  return arr;
}

/* setns(fd, nstype) */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = (int)arg_int(env, argv[0]);
  int type = (int)arg_int(env, argv[1]);
  if (setns(fd, type) != 0) return throw_errno(env, "setns", NULL, errno);
  return NULL;
}

/* unshare(flags) */
static napi_value js_unshare(napi_env env, napi_callback_info info) {
  ARGS(1);
  if (unshare((int)arg_int(env, argv[0])) != 0) return throw_errno(env, "unshare", NULL, errno);
  return NULL;
}

/*
 * Connects an AF_UNIX SOCK_SEQPACKET socket (close-on-exec) to path and returns its fd; throws
 * and returns -1 on failure. A path longer than sun_path (deep exec roots) is reached through
 * /proc/self/fd of its directory, as conmon itself binds it.
 */
static int seqpacket_connect_path(napi_env env, char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  int dirfd = -1;
  if (strlen(path) < sizeof addr.sun_path) {
    strcpy(addr.sun_path, path);
  } else {
    char *slash = strrchr(path, '/');
    if (!slash || strlen(slash + 1) > 64) { throw_errno(env, "connect", NULL, ENAMETOOLONG); return -1; }
    *slash = 0;
    dirfd = open(path, O_PATH | O_CLOEXEC);
    *slash = '/';
    if (dirfd < 0) { int err = errno; throw_errno(env, "open", path, err); return -1; }
    snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, slash + 1);
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) { int err = errno; if (dirfd >= 0) close(dirfd); throw_errno(env, "socket", NULL, err); return -1; }
  int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  int err = errno;
  if (dirfd >= 0) close(dirfd);
  if (rc != 0) {
    close(fd);
    throw_errno(env, "connect", path, err);
    return -1;
  }
  return fd;
}

/* seqpacket_connect_path for JS argument v; a null path throws null_err. */
static int seqpacket_connect(napi_env env, napi_value v, int null_err) {
  char *path = arg_string(env, v);
  if (!path) { throw_errno(env, "connect", NULL, null_err); return -1; }
  int fd = seqpacket_connect_path(env, path);
  free(path);
  return fd;
}

/*
 * seqpacketConnect(path) -> fd. conmon's attach socket is AF_UNIX SOCK_SEQPACKET,
 * which libuv cannot connect (EPROTOTYPE). The fd is close-on-exec.
 */
static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = seqpacket_connect(env, argv[0], ENAMETOOLONG);
  if (fd < 0) return NULL;
  napi_value ret;
  napi_create_int32(env, fd, &ret);
  return ret;
}

/*
 * seqpacketPump(path) -> fd. Connects conmon's attach socket (SOCK_SEQPACKET) and returns
 * one end of a SOCK_STREAM socketpair that libuv can wrap (`new net.Socket({fd})`). A detached
 * thread copies between the two:
 *   attach -> stream: each packet [pipe byte][data] becomes Docker's 8-byte frame
 *                     [stream, 0, 0, 0, len BE] + data (conmon's pipe 2/3 = stdout/stderr);
 *   stream -> attach: bytes go to the container's stdin, one packet per read.
 * EOF on the stream side (JS end()) becomes shutdown(SHUT_WR) on the attach socket, which makes
 * conmon close the container's stdin (unless it runs with --leave-stdin-open); EOF from conmon
 * becomes shutdown(SHUT_WR) on the stream. The thread closes both fds when both directions
 * have ended or either peer is gone. The thread is why: libuv cannot wrap SEQPACKET sockets.
 */
struct pump_fds { int seq; int stream; };

static int write_full(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

static void *pump_thread(void *arg) {
  struct pump_fds p = *(struct pump_fds *)arg;
  free(arg);
  enum { BUFSZ = 65536 };
  char *buf = malloc(BUFSZ + 8);
  int seq_open = 1, stream_open = 1; /* directions still carrying data */
  while (buf && (seq_open || stream_open)) {
    struct pollfd fds[2] = {{p.seq, seq_open ? POLLIN : 0, 0}, {p.stream, stream_open ? POLLIN : 0, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (seq_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = recv(p.seq, buf + 7, BUFSZ, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        seq_open = 0;
        shutdown(p.stream, SHUT_WR);
        if (fds[0].revents & POLLERR) break;
      } else if (n > 1) {
        /* buf[7] is conmon's pipe byte; the payload follows it at buf + 8. */
        unsigned char stream = (unsigned char)buf[7] == 3 ? 2 : 1;
        uint32_t len = (uint32_t)(n - 1);
        buf[0] = (char)stream; buf[1] = buf[2] = buf[3] = 0;
        buf[4] = (char)(len >> 24); buf[5] = (char)(len >> 16); buf[6] = (char)(len >> 8); buf[7] = (char)len;
        if (write_full(p.stream, buf, len + 8) < 0) break; /* JS side gone */
      }
    }
    if (stream_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      /* conmon receives a packet into a 32 KiB buffer and drops what does not fit. */
      ssize_t n = read(p.stream, buf, 16384);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stream_open = 0;
        shutdown(p.seq, SHUT_WR);
        if (n < 0) break;
      } else if (write_full(p.seq, buf, (size_t)n) < 0) {
        stream_open = 0;
      }
    }
  }
  free(buf);
  close(p.seq);
  close(p.stream);
  return NULL;
}

static napi_value js_seqpacket_pump(napi_env env, napi_callback_info info) {
  ARGS(1);
  int seq = seqpacket_connect(env, argv[0], EINVAL);
  if (seq < 0) return NULL;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    int err = errno;
    close(seq);
    return throw_errno(env, "socketpair", NULL, err);
  }
  struct pump_fds *p = malloc(sizeof *p);
  p->seq = seq;
  p->stream = sv[1];
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc = pthread_create(&t, &attr, pump_thread, p);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(p);
    close(seq); close(sv[0]); close(sv[1]);
    return throw_errno(env, "pthread_create", NULL, rc);
  }
  napi_value ret;
  napi_create_int32(env, sv[0], &ret);
  return ret;
}

/*
 * ttyMakeRaw(fd): the terminal in raw mode as cfmakeraw(3) (and the docker CLI) sets it, output
 * processing included. libuv's raw mode keeps OPOST/ONLCR, which turns the container's "\r\n"
 * into "\r\r\n". Callers enter libuv's raw mode first, so that libuv saves the original
 * settings and restores them (setRawMode(false), and at exit).
 */
static napi_value js_tty_make_raw(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = (int)arg_int(env, argv[0]);
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return throw_errno(env, "tcgetattr", NULL, errno);
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) != 0) return throw_errno(env, "tcsetattr", NULL, errno);
  return NULL;
}

/*
 * idmapMount(source, target, usernsFd): an idmapped bind mount of source at target, ids shifted
 * by the user namespace's mappings (open_tree + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount;
 * Linux 5.12+). Raw syscalls: glibc 2.36 has no wrappers for them.
 */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
struct berth_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
static napi_value js_idmap_mount(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *src = arg_string(env, argv[0]);
  char *target = arg_string(env, argv[1]);
  int userns = (int)arg_int(env, argv[2]);
  const char *failed = NULL;
  int err = 0;
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, src, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
  if (fd < 0) { failed = "open_tree"; err = errno; }
  if (!failed) {
    struct berth_mount_attr attr = { 0x00100000 /* MOUNT_ATTR_IDMAP */, 0, 0, (uint64_t)userns };
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) { failed = "mount_setattr"; err = errno; }
  }
  if (!failed && syscall(SYS_move_mount, fd, "", AT_FDCWD, target, 4 /* MOVE_MOUNT_F_EMPTY_PATH */) != 0) { failed = "move_mount"; err = errno; }
  if (fd >= 0) close(fd);
  if (failed) throw_errno(env, failed, failed[0] == 'm' && failed[1] == 'o' ? target : src, err);
  free(src); free(target);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setns", NULL, js_setns, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unshare", NULL, js_unshare, NULL, NULL, NULL, napi_enumerable, NULL},
    {"seqpacketConnect", NULL, js_seqpacket_connect, NULL, NULL, NULL, napi_enumerable, NULL},
    {"seqpacketPump", NULL, js_seqpacket_pump, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ttyMakeRaw", NULL, js_tty_make_raw, NULL, NULL, NULL, napi_enumerable, NULL},
    {"idmapMount", NULL, js_idmap_mount, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
