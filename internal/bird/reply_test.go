package bird

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []Line
		rest string // what must be left unread: the next reply
	}{{
		name: "one line",
		in:   "0003 Reconfigured\n",
		want: []Line{{3, "Reconfigured"}},
	}, {
		name: "empty final line",
		in:   "0000 \n",
		want: []Line{{0, ""}},
	}, {
		name: "continuation by space keeps the code",
		in:   "1011-Router ID is 192.0.2.1\n Hostname is vm\n0013 Daemon is up and running\n",
		want: []Line{{1011, "Router ID is 192.0.2.1"}, {1011, "Hostname is vm"}, {13, "Daemon is up and running"}},
	}, {
		name: "codes change within a reply, indentation kept",
		in:   "2002-Name\n1002-wg2  BGP\n1006-  BGP state:  Established\n     Neighbor AS: 65002\n \n0000 \n",
		want: []Line{{2002, "Name"}, {1002, "wg2  BGP"}, {1006, "  BGP state:  Established"}, {1006, "    Neighbor AS: 65002"}, {1006, ""}, {0, ""}},
	}, {
		name: "stops at the final line",
		in:   "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n0020 Configuration OK\n",
		want: []Line{{2, "Reading configuration from /etc/bird/bird.conf"}, {3, "Reconfigured"}},
		rest: "0020 Configuration OK\n",
	}, {
		name: "spontaneous lines are not part of the reply",
		in:   "1000-BIRD 2.0.12\n+Config timeout expired, starting undo\n0013 Daemon is up and running\n",
		want: []Line{{1000, "BIRD 2.0.12"}, {13, "Daemon is up and running"}},
	}, {
		name: "CRLF",
		in:   "1000-BIRD 2.0.12\r\n0013 ok\r\n",
		want: []Line{{1000, "BIRD 2.0.12"}, {13, "ok"}},
	}, {
		name: "error",
		in:   "8003 No protocols match\n",
		want: []Line{{8003, "No protocols match"}},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.in))
			got, err := readReply(r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			rest, _ := io.ReadAll(r)
			if string(rest) != tt.rest {
				t.Errorf("left %q unread, want %q", rest, tt.rest)
			}
		})
	}
}

func TestReadReplyErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want error
	}{
		{"no code", "No such command\n", errMalformed},
		{"short code", "003 Reconfigured\n", errMalformed},
		{"code without separator", "0003Reconfigured\n", errMalformed},
		{"continuation first", " Hostname is vm\n0013 ok\n", errMalformed},
		{"line too long", "1002-" + strings.Repeat("x", maxLine) + "\n", errMalformed},
		{"nothing", "", io.EOF},
		{"hung up between lines", "1002-wg2\n", io.ErrUnexpectedEOF},
		{"hung up inside a line", "0013 Daemon is", io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readReply(bufio.NewReaderSize(strings.NewReader(tt.in), maxLine))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	for _, tt := range []struct {
		l    Line
		err  bool
		text string
	}{
		{Line{0, ""}, false, "0000 "},
		{Line{1002, "wg2"}, false, "1002 wg2"},
		{Line{8002, "x"}, true, "8002 x"},
		{Line{9001, "syntax error"}, true, "9001 syntax error"},
		{Line{7999, ""}, false, "7999 "},
	} {
		if tt.l.IsError() != tt.err || tt.l.String() != tt.text {
			t.Errorf("%#v: IsError %v, String %q", tt.l, tt.l.IsError(), tt.l.String())
		}
	}
}
