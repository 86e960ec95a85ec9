"""Day-2 API calls through Debian's python3-docker against a berthd socket.

Run by test/compat/dockerode.test.ts as `/usr/bin/python3 docker_py_day2.py <socket> [scenario...]`.
Each scenario asserts what an SDK user would rely on and prints `ok <name>`; any failure raises,
so the process exits non-zero with the traceback on stderr.
"""
import datetime
import io
import socket
import sys
import tarfile
import time

import docker

SOCK = sys.argv[1]
client = docker.DockerClient(base_url="unix://" + SOCK, timeout=120)
api = client.api
IMAGE = "busybox"


def cleanup(*containers):
    for c in containers:
        try:
            c.remove(v=True, force=True)
        except docker.errors.NotFound:
            pass


def wait_until(cond, what, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def read_socket_until(sock, needle, timeout=30.0):
    """Reads a raw (tty=False) attach socket, demultiplexing frames, until `needle` appears."""
    sock.settimeout(timeout)
    buf = b""
    out = b""
    end = time.time() + timeout
    while needle not in out and time.time() < end:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            out += buf[8:8 + size]
            buf = buf[8 + size:]
    return out


def scenario_attach_stdin():
    c = client.containers.create(IMAGE, ["sh", "-c", "read line; echo got:$line; read l2; echo bye:$l2"],
                                 tty=False, stdin_open=True)
    try:
        s = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = s._sock
        c.start()
        raw.sendall(b"hello\n")
        out = read_socket_until(raw, b"got:hello\n")
        assert b"got:hello\n" in out, out
        raw.sendall(b"world\n")
        out = read_socket_until(raw, b"bye:world\n")
        assert b"bye:world\n" in out, out
        raw.close()
        s.close()
        assert c.wait(timeout=60)["StatusCode"] == 0
    finally:
        cleanup(c)
    # docker-py sets StdinOnce with stdin_open: a half-close of the socket is the container's EOF
    c = client.containers.create(IMAGE, ["sh", "-c", "cat; echo eof"], stdin_open=True)
    try:
        assert api.inspect_container(c.id)["Config"]["StdinOnce"] is True
        s = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        raw = s._sock
        c.start()
        raw.sendall(b"abc\n")
        raw.shutdown(socket.SHUT_WR)
        out = read_socket_until(raw, b"eof\n")
        assert out == b"abc\neof\n", out
        assert c.wait(timeout=60)["StatusCode"] == 0
    finally:
        cleanup(c)


def scenario_exec():
    c = client.containers.run(IMAGE, ["sleep", "300"], detach=True)
    try:
        res = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"], demux=True)
        assert res.exit_code == 3, res
        assert res.output == (b"out\n", b"err\n"), res.output
        res = c.exec_run(["sh", "-c", "id -u; pwd; echo $FOO"], user="1000", workdir="/tmp",
                         environment={"FOO": "bar"})
        assert res.exit_code == 0, res
        assert res.output == b"1000\n/tmp\nbar\n", res.output
        res = c.exec_run(["sh", "-c", "echo $A-$B"], environment=["A=1", "B=2"])
        assert res.output == b"1-2\n", res.output
        # low-level API: exec_create / exec_start(socket) with stdin / exec_inspect
        ex = api.exec_create(c.id, ["sh", "-c", "read x; echo in:$x; exit 7"], stdin=True)
        s = api.exec_start(ex["Id"], socket=True)
        raw = s._sock
        raw.sendall(b"abc\n")
        out = read_socket_until(raw, b"in:abc\n")
        assert b"in:abc\n" in out, out
        raw.close()
        s.close()
        wait_until(lambda: not api.exec_inspect(ex["Id"])["Running"], "exec to end")
        info = api.exec_inspect(ex["Id"])
        assert info["ExitCode"] == 7, info
        assert info["ContainerID"] == c.id, info
        # streaming exec
        gen = c.exec_run(["sh", "-c", "echo a; echo b"], stream=True).output
        assert b"".join(gen) == b"a\nb\n"
        # tty exec
        for _ in range(20):
            res = c.exec_run(["echo", "tty"], tty=True)
            assert res.output == b"tty\r\n", res.output
    finally:
        cleanup(c)


def scenario_events():
    since = datetime.datetime.utcnow() - datetime.timedelta(seconds=1)
    c = client.containers.run(IMAGE, ["true"], detach=True, labels={"compat": "events"})
    try:
        c.wait(timeout=60)
        time.sleep(1.1)
        until = datetime.datetime.utcnow() + datetime.timedelta(seconds=1)
        evs = list(client.events(decode=True, since=since, until=until,
                                 filters={"container": c.id, "type": "container"}))
        actions = [e["Action"] for e in evs]
        for a in ("create", "start", "die"):
            assert a in actions, actions
        for e in evs:
            assert e["Type"] == "container", e
            assert e["Actor"]["ID"] == c.id, e
            assert e["id"] == c.id, e
            assert isinstance(e["time"], int) and isinstance(e["timeNano"], int), e
            assert e["Actor"]["Attributes"]["compat"] == "events", e
        die = [e for e in evs if e["Action"] == "die"][0]
        assert die["Actor"]["Attributes"]["exitCode"] == "0", die
        # label filter and the low-level api call with integer timestamps
        evs = list(api.events(decode=True, since=int(since.replace(tzinfo=datetime.timezone.utc).timestamp()),
                              until=int(time.time()) + 1, filters={"label": ["compat=events"], "event": "start"}))
        assert [e["Action"] for e in evs] == ["start"], evs
    finally:
        cleanup(c)


def scenario_stats_top_pause_update():
    c = client.containers.run(IMAGE, ["sh", "-c", "while :; do :; done"], detach=True,
                              mem_limit="64m", restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    try:
        info = api.inspect_container(c.id)
        assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}, info["HostConfig"]["RestartPolicy"]
        assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024
        time.sleep(1.5)
        s = c.stats(stream=False)
        assert s["memory_stats"]["usage"] > 0, s["memory_stats"]
        assert s["memory_stats"]["limit"] == 64 * 1024 * 1024, s["memory_stats"]
        assert s["cpu_stats"]["cpu_usage"]["total_usage"] > 0, s["cpu_stats"]
        assert "system_cpu_usage" in s["cpu_stats"], s["cpu_stats"]
        assert "online_cpus" in s["cpu_stats"], s["cpu_stats"]
        assert "total_usage" in s["precpu_stats"]["cpu_usage"], s["precpu_stats"]
        assert s["precpu_stats"]["cpu_usage"]["total_usage"] > 0, s["precpu_stats"]
        assert s["id"] == c.id and s["name"] == "/" + c.name, (s["id"], s["name"])
        assert "read" in s and "preread" in s
        # CPU percentage as the docker CLI and SDK users compute it
        cpu_delta = s["cpu_stats"]["cpu_usage"]["total_usage"] - s["precpu_stats"]["cpu_usage"]["total_usage"]
        sys_delta = s["cpu_stats"]["system_cpu_usage"] - s["precpu_stats"]["system_cpu_usage"]
        assert cpu_delta > 0 and sys_delta > 0, (cpu_delta, sys_delta)
        # streamed stats decode
        gen = c.stats(stream=True, decode=True)
        first = next(gen)
        assert first["memory_stats"]["usage"] > 0
        gen.close()
        top = c.top()
        assert top["Titles"][:1] == ["UID"] or "PID" in top["Titles"], top
        cmd_col = top["Titles"].index("CMD") if "CMD" in top["Titles"] else top["Titles"].index("COMMAND")
        assert any("while" in p[cmd_col] or "sh" in p[cmd_col] for p in top["Processes"]), top
        top2 = c.top(ps_args="-o pid,comm")
        assert top2["Titles"] == ["PID", "COMMAND"], top2
        c.pause()
        c.reload()
        assert c.status == "paused", c.status
        assert c.attrs["State"]["Paused"] is True
        c.unpause()
        c.reload()
        assert c.status == "running", c.status
        res = c.update(mem_limit="128m", memswap_limit="256m")
        assert res.get("Warnings") in (None, []), res
        c.reload()
        assert c.attrs["HostConfig"]["Memory"] == 128 * 1024 * 1024, c.attrs["HostConfig"]["Memory"]
        s = c.stats(stream=False)
        assert s["memory_stats"]["limit"] == 128 * 1024 * 1024, s["memory_stats"]
        c.update(restart_policy={"Name": "always"})
        c.reload()
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    finally:
        cleanup(c)


def scenario_restart_policy():
    c = client.containers.run(IMAGE, ["sh", "-c", "echo run; exit 1"], detach=True,
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    try:
        wait_until(lambda: api.inspect_container(c.id)["RestartCount"] == 2
                   and not api.inspect_container(c.id)["State"]["Running"]
                   and api.inspect_container(c.id)["State"]["Status"] == "exited", "two restarts", 90)
        time.sleep(2)
        info = api.inspect_container(c.id)
        assert info["RestartCount"] == 2, info["RestartCount"]
        assert info["State"]["ExitCode"] == 1
        assert c.logs() == b"run\nrun\nrun\n", c.logs()
    finally:
        cleanup(c)


def tar_of(files):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o640
            ti.mtime = 1600000000
            t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def scenario_archive_diff_commit_export():
    c = client.containers.create(IMAGE, ["sleep", "300"])
    c2 = None
    try:
        assert c.put_archive("/tmp", tar_of({"hello.txt": b"hi there\n", "sub/x.txt": b"x"})) is True
        c.start()
        bits, stat = c.get_archive("/tmp/hello.txt")
        assert stat["name"] == "hello.txt", stat
        assert stat["size"] == 9, stat
        assert stat["mode"] & 0o777 == 0o640, oct(stat["mode"])
        assert "mtime" in stat and "linkTarget" in stat, stat
        data = b"".join(bits)
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            m = t.getmember("hello.txt")
            assert t.extractfile(m).read() == b"hi there\n"
        bits, stat = c.get_archive("/tmp/sub")
        assert stat["mode"] & 0o20000000000, oct(stat["mode"])  # Go's os.ModeDir
        with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as t:
            assert sorted(t.getnames()) == ["sub", "sub/x.txt"], t.getnames()
        try:
            c.get_archive("/nonexistent")
            raise AssertionError("get_archive of a missing path succeeded")
        except docker.errors.NotFound:
            pass
        try:
            c.put_archive("/nonexistent-dir", tar_of({"a": b"a"}))
            raise AssertionError("put_archive into a missing directory succeeded")
        except docker.errors.NotFound:
            pass
        c.exec_run(["sh", "-c", "echo changed > /etc/motd; rm /bin/vi; mkdir -p /newdir"])
        diff = c.diff()
        kinds = {d["Path"]: d["Kind"] for d in diff}
        assert kinds.get("/etc/motd") == 1, diff
        assert kinds.get("/etc") == 0, diff
        assert kinds.get("/bin/vi") == 2, diff
        assert kinds.get("/newdir") == 1, diff
        img = c.commit(repository="compat/committed", tag="v1", message="msg", author="me",
                       changes=["ENV COMMITTED=yes", "CMD [\"cat\", \"/etc/motd\"]"],
                       conf={"Labels": {"from": "commit"}})
        assert "compat/committed:v1" in img.tags, img.tags
        assert "COMMITTED=yes" in img.attrs["Config"]["Env"], img.attrs["Config"]
        assert img.attrs["Config"]["Labels"].get("from") == "commit", img.attrs["Config"]
        assert img.attrs["Author"] == "me" and img.attrs["Comment"] == "msg", img.attrs
        out = client.containers.run("compat/committed:v1", remove=True)
        assert out == b"changed\n", out
        out = client.containers.run("compat/committed:v1", ["sh", "-c", "echo $COMMITTED; ls /tmp/hello.txt"], remove=True)
        assert out == b"yes\n/tmp/hello.txt\n", out
        exp = b"".join(c.export())
        with tarfile.open(fileobj=io.BytesIO(exp)) as t:
            names = set(n.lstrip("./") for n in t.getnames())
        assert "etc/motd" in names and "tmp/hello.txt" in names and "bin/busybox" in names, len(names)
        assert "bin/vi" not in names
        client.images.remove("compat/committed:v1")
    finally:
        cleanup(c)


def scenario_prune_df():
    a = client.containers.run(IMAGE, ["true"], detach=True, labels={"prune": "yes"})
    b = client.containers.run(IMAGE, ["true"], detach=True, labels={"prune": "no"})
    keep = client.containers.run(IMAGE, ["sleep", "300"], detach=True, labels={"prune": "yes"})
    try:
        a.wait(timeout=60)
        b.wait(timeout=60)
        res = client.containers.prune(filters={"label": "prune=yes"})
        assert res["ContainersDeleted"] == [a.id], res
        assert isinstance(res["SpaceReclaimed"], int)
        ids = [c.id for c in client.containers.list(all=True)]
        assert b.id in ids and keep.id in ids and a.id not in ids
        # a dangling image: commit without a tag
        img = b.commit()
        assert img.tags == [], img.tags
        res = client.images.prune(filters={"dangling": True})
        assert img.id in [d.get("Deleted") for d in (res["ImagesDeleted"] or [])], res
        assert isinstance(res["SpaceReclaimed"], int)
        df = client.df()
        assert any("busybox:latest" in (i["RepoTags"] or []) for i in df["Images"]), df["Images"]
        cids = [c["Id"] for c in df["Containers"]]
        assert keep.id in cids and b.id in cids, cids
        for c in df["Containers"]:
            assert "SizeRw" in c and "SizeRootFs" in c, c
        assert isinstance(df["LayersSize"], int) and df["LayersSize"] > 0
        assert isinstance(df["Volumes"], list)
        assert "BuildCache" in df
        assert client.volumes.prune()["VolumesDeleted"] is not None or True
    finally:
        cleanup(b, keep)


def scenario_health():
    c = client.containers.run(IMAGE, ["sleep", "300"], detach=True,
                              healthcheck={"test": ["CMD", "true"], "interval": 1000000000,
                                           "timeout": 5000000000, "retries": 3, "start_period": 0})
    bad = client.containers.run(IMAGE, ["sleep", "300"], detach=True,
                                healthcheck={"test": ["CMD-SHELL", "echo bad; exit 1"], "interval": 1000000000,
                                             "retries": 2})
    try:
        cfg = api.inspect_container(c.id)["Config"]["Healthcheck"]
        assert cfg["Test"] == ["CMD", "true"] and cfg["Interval"] == 1000000000, cfg
        wait_until(lambda: api.inspect_container(c.id)["State"]["Health"]["Status"] == "healthy", "healthy", 60)
        h = api.inspect_container(c.id)["State"]["Health"]
        assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0, h
        assert client.containers.list(filters={"health": "healthy", "id": c.id})[0].id == c.id
        wait_until(lambda: api.inspect_container(bad.id)["State"]["Health"]["Status"] == "unhealthy", "unhealthy", 60)
        h = api.inspect_container(bad.id)["State"]["Health"]
        assert h["Log"][-1]["ExitCode"] == 1 and h["Log"][-1]["Output"] == "bad\n", h
        assert "(healthy)" in [x for x in api.containers(filters={"id": c.id})][0]["Status"]
    finally:
        cleanup(c, bad)


def scenario_logs_wait():
    c = client.containers.run(IMAGE, ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 3; echo late; exit 4"], detach=True)
    try:
        res = c.wait(timeout=60)
        assert res == {"StatusCode": 4, "Error": None} or (res["StatusCode"] == 4 and not res.get("Error")), res
        assert c.logs(tail=2) == b"line5\nlate\n", c.logs(tail=2)
        assert c.logs(tail=0) == b"", c.logs(tail=0)
        lines = c.logs(timestamps=True).decode().splitlines()
        assert len(lines) == 6, lines
        stamps = []
        for ln in lines:
            ts, text = ln.split(" ", 1)
            assert ts.endswith("Z") and "T" in ts, ln
            stamps.append(ts)
        late_ts = stamps[5]
        # since = one second before 'late' (which came 3s after the rest): only 'late'
        # docker-py takes naive datetimes as UTC
        late = datetime.datetime.strptime(late_ts[:19], "%Y-%m-%dT%H:%M:%S")
        since = late - datetime.timedelta(seconds=1)
        since_epoch = int(since.replace(tzinfo=datetime.timezone.utc).timestamp())
        assert c.logs(since=since) == b"late\n", c.logs(since=since)
        assert c.logs(until=since) == b"line1\nline2\nline3\nline4\nline5\n", c.logs(until=since)
        assert c.logs(since=since_epoch, until=since_epoch + 10) == b"late\n"
        assert c.logs(since=since, tail=1, timestamps=True).decode().startswith(late_ts[:19])
        # follow on a running container ends when it exits
        f = client.containers.run(IMAGE, ["sh", "-c", "echo one; sleep 1; echo two"], detach=True)
        try:
            got = b"".join(f.logs(stream=True, follow=True))
            assert got == b"one\ntwo\n", got
        finally:
            cleanup(f)
    finally:
        cleanup(c)


def scenario_live_events_attach():
    """A live (unbounded) event stream read while a container runs; attach(stream, logs)."""
    stream = client.events(decode=True, filters={"type": "container", "label": "compat=live"})
    c = client.containers.run(IMAGE, ["sh", "-c", "echo a; sleep 1; echo b >&2"], detach=True,
                              labels={"compat": "live"})
    try:
        seen = []
        for e in stream:
            seen.append(e["Action"])
            if e["Action"] == "die":
                break
        stream.close()
        assert seen[:2] == ["create", "start"] and seen[-1] == "die", seen
        # attach(logs=True) without stream replays the log (a stream on a stopped container waits
        # for its next start, as Docker's does, so it is not used here)
        assert c.attach(stdout=True, stderr=True, logs=True) == b"a\nb\n"
        # repeated: output sent together with the 101 headers used to be lost now and then
        for _ in range(20):
            assert c.attach(stdout=True, stderr=False, logs=True) == b"a\n"
        # attach(stream, logs) to a running container: the log so far, then what follows, each line once
        for tty in (False, True, False, True):
            r = client.containers.run(IMAGE, ["sh", "-c", "for i in 0 1 2 3; do echo n$i; sleep 0.3; done"],
                                      detach=True, tty=tty)
            try:
                time.sleep(0.4)
                out = b"".join(r.attach(stream=True, logs=True, stdout=True, stderr=True)).replace(b"\r", b"")
                assert out == b"n0\nn1\nn2\nn3\n", (tty, out)
            finally:
                cleanup(r)
        # run() without detach: output of stdout and stderr, ContainerError on failure
        assert client.containers.run(IMAGE, ["sh", "-c", "echo o; echo e >&2"], stderr=True, remove=True) == b"o\ne\n"
        try:
            client.containers.run(IMAGE, ["sh", "-c", "echo fail >&2; exit 9"], remove=True)
            raise AssertionError("no ContainerError")
        except docker.errors.ContainerError as err:
            assert err.exit_status == 9 and b"fail" in err.stderr, err
        # restart, kill with a signal, rename
        r = client.containers.run(IMAGE, ["sh", "-c", "trap 'echo usr1' USR1; while :; do sleep 0.2; done"], detach=True)
        try:
            time.sleep(1)
            r.kill(signal="SIGUSR1")
            wait_until(lambda: b"usr1" in r.logs(), "trap output")
            r.restart(timeout=1)
            r.reload()
            assert r.status == "running" and r.attrs["RestartCount"] == 0, r.attrs["State"]
            r.rename("compat-renamed")
            assert client.containers.get("compat-renamed").id == r.id
        finally:
            cleanup(r)
    finally:
        cleanup(c)


def scenario_ports():
    c = client.containers.run(IMAGE, ["sleep", "300"], detach=True, ports={"8080/tcp": None, "9090/udp": ("127.0.0.1", None)})
    try:
        c.reload()
        p = c.ports
        assert int(p["8080/tcp"][0]["HostPort"]) > 0, p
        assert p["9090/udp"][0]["HostIp"] == "127.0.0.1", p
        port = api.port(c.id, 8080)
        assert port[0]["HostPort"] == p["8080/tcp"][0]["HostPort"], port
    finally:
        cleanup(c)


SCENARIOS = {k[len("scenario_"):]: v for k, v in globals().items() if k.startswith("scenario_")}

if __name__ == "__main__":
    names = sys.argv[2:] or list(SCENARIOS)
    for n in names:
        SCENARIOS[n]()
        print("ok " + n, flush=True)
