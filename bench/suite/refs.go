package suite

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RefServerArg makes the bench binary the reference server of scenario 1.
const RefServerArg = "refserver"

// RunRefServer is the reference of scenario 1: a trivial net/http handler
// answering a fixed JSON body of the given length with the ICWS content
// type, on a plain HTTP loopback listener as icrec's. It prints its URL.
func RunRefServer(args []string) error {
	fs := flag.NewFlagSet(RefServerArg, flag.ContinueOnError)
	n := fs.Int("body-len", 180, "length of the JSON body")
	if err := fs.Parse(args); err != nil {
		return err
	}
	prefix := `{"uri":"http://127.0.0.1:8018/export/`
	if *n < len(prefix)+2 {
		return errors.New("body too short")
	}
	body := []byte(prefix + strings.Repeat("A", *n-len(prefix)-2) + `"}`)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", l.Addr())
	os.Stdout.Sync()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.inin.icws+json; charset=utf-8")
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}

// startRef runs the reference server as a child process.
func (e *Env) startRef(ctx context.Context, bodyLen int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, RefServerArg, "--body-len", strconv.Itoa(bodyLen))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	e.ref = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reference server: %v", err)
	}
	e.refURL = strings.TrimSpace(line)
	return nil
}

// startNginx serves the large recording's file over HTTP and HTTPS with
// sendfile, the bench certificate and TLS 1.3 as icrec does.
func (e *Env) startNginx(ctx context.Context) error {
	e.nginxDir = filepath.Join(e.Work, "nginx")
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(e.nginxDir, d), 0o755); err != nil {
			return err
		}
	}
	hp, err := freePort()
	if err != nil {
		return err
	}
	sp, err := freePort()
	if err != nil {
		return err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers read the work directory as its owner
	}
	conf := fmt.Sprintf(`%s
worker_processes auto;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path %[2]s/tmp/body;
  proxy_temp_path %[2]s/tmp/proxy;
  fastcgi_temp_path %[2]s/tmp/fastcgi;
  uwsgi_temp_path %[2]s/tmp/uwsgi;
  scgi_temp_path %[2]s/tmp/scgi;
  types { audio/wav wav; }
  server {
    listen 127.0.0.1:%[3]d;
    root %[4]s;
  }
  server {
    listen 127.0.0.1:%[5]d ssl;
    ssl_certificate %[6]s;
    ssl_certificate_key %[7]s;
    ssl_protocols TLSv1.3;
    root %[4]s;
  }
}
`, user, e.nginxDir, hp, filepath.Dir(e.bigFile), sp, e.cert, e.key)
	confPath := filepath.Join(e.nginxDir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(nginxPath(), "-p", e.nginxDir, "-c", confPath, "-e", filepath.Join(e.nginxDir, "logs", "error.log"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	e.nginx = cmd
	e.ngHTTP = fmt.Sprintf("http://127.0.0.1:%d", hp)
	e.ngHTTPS = fmt.Sprintf("https://127.0.0.1:%d", sp)
	for range 100 {
		if resp, err := e.hc.Head(e.ngHTTP + "/big.wav"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			return fmt.Errorf("nginx answers %s for the large file", resp.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(e.nginxDir, "logs", "error.log"))
	return fmt.Errorf("nginx did not start:\n%s", log)
}
