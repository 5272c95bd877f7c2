package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText writes r for a person: the settings, one column per server
// (localcases, and ceiling with the ratio when measured), the per-operation
// breakdown and the errors by type.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	where := r.Server.URL
	if r.Server.InProcess {
		where = "in-process server at " + where
	}
	store := r.Server.Store
	if store == "" {
		store = "unknown"
	}
	fmt.Fprintf(&b, "localcases bench: %s, %d workers, %s", r.Workload, r.Concurrency, r.Mode)
	if r.TargetRate > 0 {
		fmt.Fprintf(&b, " at %.0f req/s", r.TargetRate)
	}
	fmt.Fprintf(&b, "\ntarget: %s (store %s)\n", where, store)
	fmt.Fprintf(&b, "machine: %s/%s, %d CPUs, %s\n", r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion)
	fmt.Fprintf(&b, "seed: %s in %.2fs\n\n", seedText(r.Seed), r.Seed.Seconds)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	l, c := r.Localcases, r.Ceiling
	if c != nil {
		fmt.Fprint(tw, "\tlocalcases\tceiling\tratio\t\n")
	} else {
		fmt.Fprint(tw, "\tlocalcases\t\n")
	}
	// tabwriter right-aligns every column; padding the names makes the
	// first one read left-aligned while the numbers stay right-aligned.
	row := func(name string, lv, cv string, ratio float64) {
		name = fmt.Sprintf("%-11s", name)
		if c == nil {
			fmt.Fprintf(tw, "%s\t%s\t\n", name, lv)
			return
		}
		rs := "-"
		if ratio > 0 {
			rs = fmt.Sprintf("%.2f", ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, lv, cv, rs)
	}
	pick := func(f func(Measurement) string) (string, string) {
		if c == nil {
			return f(l), ""
		}
		return f(l), f(*c)
	}
	var ra Ratio
	if r.Ratio != nil {
		ra = *r.Ratio
	}
	a, bb := pick(func(x Measurement) string { return fmt.Sprint(x.Requests) })
	row("requests", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return fmt.Sprint(x.Successes) })
	row("successes", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return fmt.Sprint(x.Errors) })
	row("errors", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.2f s", x.Seconds) })
	row("duration", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.0f req/s", x.Throughput) })
	row("throughput", a, bb, ra.Throughput)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.3f ms", x.Latency.P50Ms) })
	row("latency p50", a, bb, ra.P50)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.3f ms", x.Latency.P90Ms) })
	row("latency p90", a, bb, ra.P90)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.3f ms", x.Latency.P99Ms) })
	row("latency p99", a, bb, ra.P99)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.3f ms", x.Latency.MaxMs) })
	row("latency max", a, bb, ra.Max)
	a, bb = pick(func(x Measurement) string { return mib(x.RSS.StartBytes) })
	row("rss start", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return mib(x.RSS.PeakBytes) })
	row("rss peak", a, bb, ra.RSSPeak)
	a, bb = pick(func(x Measurement) string { return mib(x.RSS.EndBytes) })
	row("rss end", a, bb, 0)
	a, bb = pick(func(x Measurement) string { return fmt.Sprintf("%.1f s", x.CPU.ProcessSeconds) })
	row("cpu bench", a, bb, 0)
	a, bb = pick(func(x Measurement) string {
		if x.CPU.MachineBusySeconds < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f of %.1f s", x.CPU.MachineBusySeconds, x.CPU.CapacitySeconds)
	})
	row("cpu machine", a, bb, 0)
	tw.Flush()

	if len(l.Ops) > 1 {
		b.WriteString("\nper operation (localcases):\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		width := 2
		for _, o := range l.Ops {
			width = max(width, len(o.Op))
		}
		fmt.Fprintf(tw, "%-*s\trequests\terrors\tp50 ms\tp90 ms\tp99 ms\tmax ms\t\n", width, "op")
		for _, o := range l.Ops {
			fmt.Fprintf(tw, "%-*s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t\n", width, o.Op, o.Requests, o.Errors,
				o.Latency.P50Ms, o.Latency.P90Ms, o.Latency.P99Ms, o.Latency.MaxMs)
		}
		tw.Flush()
	}
	writeErrors(&b, "localcases", l.ErrorsByType)
	if r.Events != nil {
		writeEvents(&b, l, r.Events)
	}
	if c != nil {
		writeErrors(&b, "ceiling", c.ErrorsByType)
		if len(c.Uncaptured) > 0 {
			fmt.Fprintf(&b, "\nnote: localcases gave no 2xx answer to %s, so the ceiling answered it with an empty output\n",
				strings.Join(c.Uncaptured, ", "))
		}
	}
	if r.Server.InProcess {
		b.WriteString("\nnote: the server ran in this process, so its RSS and \"cpu bench\" include the load generator\n")
	}
	b.WriteString("cpu machine is every process's busy time over the capacity (wall time x CPUs); well above cpu bench means something else was running\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func seedText(s Seed) string {
	var parts []string
	if s.DomainID != "" {
		how := "reused"
		if s.DomainCreated {
			how = "created"
		}
		parts = append(parts, fmt.Sprintf("domain %s (%s)", s.DomainID, how))
	}
	if s.Fields > 0 {
		parts = append(parts, fmt.Sprintf("%d fields created", s.Fields))
	}
	if s.TemplateID != "" {
		parts = append(parts, "template "+s.TemplateID)
	}
	switch {
	case s.CasesReused > 0:
		parts = append(parts, fmt.Sprintf("%d cases reused, %d created", s.CasesReused, s.Cases))
	case s.Cases > 0:
		parts = append(parts, fmt.Sprintf("%d cases created", s.Cases))
	}
	if len(parts) == 0 {
		return "nothing needed"
	}
	return strings.Join(parts, ", ")
}

func writeErrors(b *strings.Builder, label string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "\nerrors by type (%s):\n", label)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", k, m[k])
	}
	tw.Flush()
}
