package commands

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
)

// benchPipeline sends b.N commands from conns connections in pipelines of
// depth 16 over TCP and reads every reply: the whole server path.
func benchPipeline(b *testing.B, n *Node, build func(i int) string) {
	const depth = 16
	nc, err := net.Dial("tcp", n.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 1<<16)
	var sb strings.Builder
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		sb.Reset()
		k := min(depth, b.N-i)
		for j := 0; j < k; j++ {
			sb.WriteString(build(i + j))
		}
		if _, err := nc.Write([]byte(sb.String())); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < k; j++ {
			if _, err := readReply(br); err != nil {
				b.Fatal(err)
			}
		}
	}
}

var benchValue = strings.Repeat("x", 100)

func BenchmarkServer_SetP16(b *testing.B) {
	n := testNode(b)
	benchPipeline(b, n, func(i int) string {
		return encodeCommand([]string{"SET", fmt.Sprintf("key:%012d", i%100000), benchValue})
	})
}

func BenchmarkServer_GetP16(b *testing.B) {
	n := testNode(b)
	c := newClient(b, n.Addr(), 2)
	for i := 0; i < 1000; i++ {
		c.Set(ctx, fmt.Sprintf("key:%012d", i), benchValue, 0)
	}
	benchPipeline(b, n, func(i int) string {
		return encodeCommand([]string{"GET", fmt.Sprintf("key:%012d", i%1000)})
	})
}

func BenchmarkServer_IncrP16(b *testing.B) {
	n := testNode(b)
	benchPipeline(b, n, func(i int) string {
		return encodeCommand([]string{"INCR", fmt.Sprintf("counter:%d", i%1000)})
	})
}
