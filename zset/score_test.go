package zset

import (
	"math"
	"strconv"
	"testing"
)

// TestFormatScore: want is redis-server 7.0.15's reply to ZSCORE after ZADD
// with the input (skiplist encoding for -0, which listpack stores as 0).
func TestFormatScore(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0.1, "0.10000000000000001"},
		{1e20, "1e+20"},
		{1.5e-7, "1.4999999999999999e-07"},
		{123456789012345678, "1.2345678901234568e+17"},
		{3.0, "3"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{negZero, "-0"},
		{0, "0"},
		{-1.5, "-1.5"},
		{100, "100"},
		{1e15, "1000000000000000"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{1e21, "1e+21"},
		{12345678.9, "12345678.9"},
		{2.5e-5, "2.5000000000000001e-05"},
		{1e-4, "0.0001"},
		{1e-5, "1.0000000000000001e-05"},
		{0.001, "0.001"},
		{123456789, "123456789"},
		{1234567890123456, "1234567890123456"},
		{12345678901234567, "12345678901234568"},
		{0.30000000000000004, "0.30000000000000004"},
		{1e300, "1.0000000000000001e+300"},
		{1e-300, "1e-300"},
		{math.SmallestNonzeroFloat64, "4.9406564584124654e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{9.9998886718268301e-321, "9.9998886718268301e-321"},
		{-0.05, "-0.050000000000000003"},
		{math.NaN(), "nan"},
	} {
		t.Run(strconv.FormatFloat(tc.in, 'g', -1, 64), func(t *testing.T) {
			if got := string(FormatScore(nil, tc.in)); got != tc.want {
				t.Errorf("FormatScore(%v) = %q, want %q", tc.in, got, tc.want)
			}
			if got := string(FormatScore([]byte("x"), tc.in)); got != "x"+tc.want {
				t.Errorf("FormatScore did not append: %q", got)
			}
		})
	}
}

// TestFormatScoreRedis checks FormatScore on the values in
// testdata/redis_format.txt against redis-server 7.0.15's ZSCORE replies.
func TestFormatScoreRedis(t *testing.T) {
	for _, row := range readGolden(t, "redis_format.txt") {
		f, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(FormatScore(nil, f)); got != row[1] {
			t.Errorf("FormatScore(%s) = %q, Redis %q", row[0], got, row[1])
		}
	}
}

func BenchmarkFormatScore(b *testing.B) {
	buf := make([]byte, 0, 32)
	for _, f := range []float64{42, 0.1, 1.5e-7} {
		b.Run(strconv.FormatFloat(f, 'g', -1, 64), func(b *testing.B) {
			for b.Loop() {
				buf = FormatScore(buf[:0], f)
			}
		})
	}
}
