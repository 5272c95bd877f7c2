package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/chromedp/chromedp"

	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/localcasestest"
)

// The browser tests drive headless Chromium through the console's
// journeys. One browser serves the whole package (a tab per test), since
// a browser start is the costly part. Without Chromium they skip, saying
// so, unless LOCALCASES_REQUIRE_BROWSER is set, as .ci/run sets it, so CI
// never passes without them.
//
// LOCALCASES_SCREENSHOTS=1 rewrites docs/console/*.png from the journeys.

var browser context.Context

func TestMain(m *testing.M) {
	path := findChromium()
	if path == "" {
		if os.Getenv("LOCALCASES_REQUIRE_BROWSER") != "" {
			fmt.Fprintln(os.Stderr, "console: LOCALCASES_REQUIRE_BROWSER is set and no Chromium was found (apt-get install chromium)")
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root, in a container
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		fmt.Fprintf(os.Stderr, "console: start %s: %v\n", path, err)
		cancelBrowser()
		cancelAlloc()
		os.Exit(1)
	}
	browser = bctx
	code := m.Run()
	cancelBrowser()
	cancelAlloc()
	os.Exit(code)
}

func findChromium() string {
	if p := os.Getenv("LOCALCASES_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a browser tab for the test, at 1280×800, closed when it ends.
// Its deadline is generous: the machine may be busy.
func tab(t *testing.T) context.Context {
	t.Helper()
	if browser == nil {
		t.Skip("no Chromium found (apt-get install chromium, or set LOCALCASES_CHROMIUM); set LOCALCASES_REQUIRE_BROWSER=1 to fail instead")
	}
	ctx, cancel := chromedp.NewContext(browser)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// run runs browser actions, failing the test with what the page showed.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// Each step has its own deadline, so a step that waits in vain fails
	// with the page's text while the tab can still tell it.
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		t.Fatalf("%s: %v\npage text:\n%.3000s", step, err, body)
	}
}

// until waits for a JavaScript condition to hold, as long as the step's
// deadline allows.
func until(cond string) chromedp.Action[chromedp.Void] {
	p := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(100*time.Millisecond))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := p(ctx, t)
		return chromedp.Void{}, err
	}
}

// js runs a script for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	e := chromedp.Evaluate[any](expr)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := e(ctx, t)
		return chromedp.Void{}, err
	}
}

// choose sets a select element's value as a person picking it would,
// firing its change event.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('change')); })()`, sel, value))
}

// textHas is a condition: the element's text contains s.
func textHas(sel, s string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, sel, s)
}

// screenshot saves the viewport as docs/console/name.png when
// LOCALCASES_SCREENSHOTS is set; otherwise it does nothing, so a test run
// never changes the tree.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !shooting() {
		return
	}
	// A notice from the last action would cover part of the picture.
	run(t, ctx, "notice gone before "+name, until(`document.getElementById('toast').hidden`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func shooting() bool { return os.Getenv("LOCALCASES_SCREENSHOTS") != "" }

// TestBrowserDomainFromSDKAndCLI: a domain made with the Go SDK (and the
// AWS CLI, where installed) shows in the console, with its fields.
func TestBrowserDomainFromSDKAndCLI(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	bg := context.Background()
	d, err := srv.Client().CreateDomain(bg, &connectcases.CreateDomainInput{Name: aws.String("support-sdk")})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"support-sdk"}
	if _, err := exec.LookPath("aws"); err == nil {
		cmd := exec.Command("aws", "connectcases", "create-domain", "--name", "support-cli", "--endpoint-url", srv.URL(), "--output", "json")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws connectcases create-domain: %v\n%s", err, out)
		}
		names = append(names, "support-cli")
	} else {
		t.Log("AWS CLI not installed: the domain comes from the Go SDK only")
	}

	run(t, ctx, "open the console at /", chromedp.Navigate(srv.URL()+"/"))
	for _, n := range names {
		run(t, ctx, "domain "+n+" listed", until(textHas("#domains", n)))
	}
	screenshot(t, ctx, "domains")
	run(t, ctx, "open the domain",
		chromedp.Click(`//table[@id="domains"]//a[text()="support-sdk"]`),
		until(textHas("h1", "support-sdk")),
		until(textHas("main", aws.ToString(d.DomainId))),
		until(textHas("#fields", "Title")),
		until(textHas("#fields", "Status")))
	run(t, ctx, "show a field's options",
		chromedp.Click(`//table[@id="fields"]//tr[td[1][starts-with(normalize-space(.), "Status")]]//button`),
		until(textHas("#fields", "open")))
	screenshot(t, ctx, "domain")

	c := srv.Client()
	if _, err := c.CreateLayout(bg, &connectcases.CreateLayoutInput{DomainId: d.DomainId, Name: aws.String("Agent view"),
		Content: &types.LayoutContentMemberBasic{Value: types.BasicLayout{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTemplate(bg, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("Billing dispute")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCaseRule(bg, &connectcases.CreateCaseRuleInput{DomainId: d.DomainId, Name: aws.String("Title required"),
		Rule: &types.CaseRuleDetailsMemberRequired{Value: types.RequiredCaseRule{DefaultValue: aws.Bool(true),
			Conditions: []types.BooleanCondition{&types.BooleanConditionMemberEqualTo{Value: types.BooleanOperands{
				OperandOne: &types.OperandOneMemberFieldId{Value: "status"},
				OperandTwo: &types.OperandTwoMemberStringValue{Value: "open"}, Result: aws.Bool(true)}}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []struct{ link, want, detail string }{
		{"Layouts", "Agent view", `"basic"`},
		{"Templates", "Billing dispute", `"templateId"`},
		{"Case rules", "Title required", `"required"`},
	} {
		run(t, ctx, tab.link+" tab",
			chromedp.Click(`//nav[@class="tabs"]//a[text()="`+tab.link+`"]`),
			until(textHas("main table", tab.want)),
			chromedp.Click(`//main//table//tr[td[1][text()="`+tab.want+`"]]//button[text()="Details"]`),
			until(textHas("main table pre", tab.detail)))
	}
}

// seedCases makes a domain with a template, n cases titled "Case i", one
// case with a comment, and returns the domain and that case's IDs.
func seedCases(t *testing.T, c *connectcases.Client, n int) (string, string) {
	t.Helper()
	bg := context.Background()
	d, err := c.CreateDomain(bg, &connectcases.CreateDomainInput{Name: aws.String("support")})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := c.CreateTemplate(bg, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("Default")})
	if err != nil {
		t.Fatal(err)
	}
	title := func(s string) types.FieldValue {
		return types.FieldValue{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: s}}
	}
	for i := range n {
		if _, err := c.CreateCase(bg, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: tpl.TemplateId,
			Fields: []types.FieldValue{title(fmt.Sprintf("Case %d", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	fire, err := c.CreateCase(bg, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: tpl.TemplateId,
		Fields: []types.FieldValue{title("Printer on fire")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRelatedItem(bg, &connectcases.CreateRelatedItemInput{DomainId: d.DomainId, CaseId: fire.CaseId,
		Type:    types.RelatedItemTypeComment,
		Content: &types.RelatedItemInputContentMemberComment{Value: types.CommentContent{Body: aws.String("Extinguisher on its way"), ContentType: types.CommentBodyTextTypePlaintext}},
	}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.DomainId), aws.ToString(fire.CaseId)
}

// TestBrowserSearchCasesAndOpenOne: page through a domain's cases, narrow
// them with the filter builder, open one, and see its fields, audit
// history and related items.
func TestBrowserSearchCasesAndOpenOne(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	domainID, caseID := seedCases(t, srv.Client(), 30)

	run(t, ctx, "open the search", chromedp.Navigate(srv.URL()+"/_localcases/ui/#/domains/"+domainID+"/cases"),
		until(`document.querySelectorAll('#cases tbody tr').length === 25`),
		until(textHas("main", "Page 1")))
	run(t, ctx, "next page",
		chromedp.Click(`//button[contains(., "Next")]`),
		until(`document.querySelectorAll('#cases tbody tr').length === 6`),
		until(textHas("main", "Page 2")))

	run(t, ctx, "add a condition: title contains fire",
		chromedp.Click(`//button[contains(., "Add condition")]`),
		choose(`#filter-rows .filter-row select`, "title"),
		choose(`#filter-rows .filter-row select:nth-of-type(2)`, "contains"),
		chromedp.SendKeys(chromedp.CSS(`#filter-rows .filter-row input`), "FIRE"),
		until(`document.querySelector('#search-request').textContent.includes('"contains"')`),
		chromedp.Click(chromedp.CSS(`#search-run`)),
		until(`document.querySelectorAll('#cases tbody tr').length === 1`),
		until(textHas("#cases", "Printer on fire")))
	screenshot(t, ctx, "cases")

	run(t, ctx, "open the case",
		chromedp.Click(`//table[@id="cases"]//a[text()="Printer on fire"]`),
		until(textHas("#case-title", "Printer on fire")),
		until(textHas("#case-fields", caseID)),
		until(textHas("#case-audit", "Case")),
		until(textHas("#case-related", "Extinguisher on its way")))
	screenshot(t, ctx, "case")

	run(t, ctx, "back to the search keeps it",
		chromedp.NavigateBack(),
		until(`document.querySelectorAll('#cases tbody tr').length === 1`))
}

// TestBrowserFaultPanel: a rule added in the fault panel makes the API
// fail for the SDK and shows in the live chart; clearing it in the panel
// makes the API answer again.
func TestBrowserFaultPanel(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	bg := context.Background()
	cc := srv.Client(func(o *connectcases.Options) { o.RetryMaxAttempts = 1 })
	d, err := cc.CreateDomain(bg, &connectcases.CreateDomainInput{Name: aws.String("faulty")})
	if err != nil {
		t.Fatal(err)
	}
	// Steady traffic for the chart, as an application would send it.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				cc.GetDomain(bg, &connectcases.GetDomainInput{DomainId: d.DomainId})
			}
		}
	}()
	defer func() { close(stop); <-done }()

	run(t, ctx, "open the fault panel", chromedp.Navigate(srv.URL()+"/#/faults"),
		until(textHas("main", "No fault rules")),
		until(`Number(document.querySelector('#live-chart')?.dataset.requests) > 0`),
		until(`document.querySelector('#live-chart')?.dataset.failed === '0'`))

	if shooting() {
		// For the picture: some history in the chart before the fault.
		run(t, ctx, "ten seconds of traffic", until(`Number(document.querySelector('#live-chart')?.dataset.requests) >= 100`))
	}
	run(t, ctx, "add a rule",
		choose(`#fault-operation`, "GetDomain"),
		choose(`#fault-kind`, "error:InternalServerException"),
		chromedp.SendKeys(chromedp.CSS(`#fault-retry-after`), "2"),
		// The page notes when the click happens and when the chart first
		// counts a failure after it, for the log: how long a change takes
		// to show (reported, not asserted: the machine may be loaded).
		js(`window.addedAt = performance.now(); new MutationObserver((_, o) => {
			if (Number(document.querySelector('#live-chart').dataset.failed) > 0) { window.shownAfter = performance.now() - window.addedAt; o.disconnect(); }
		}).observe(document.querySelector('#live-chart'), {attributes: true})`),
		chromedp.Click(chromedp.CSS(`#fault-form button[type=submit]`)),
		until(textHas("#rules", "GetDomain")),
		until(textHas("#rules", "InternalServerException")))

	_, err = cc.GetDomain(bg, &connectcases.GetDomainInput{DomainId: d.DomainId})
	var ise *types.InternalServerException
	if !errors.As(err, &ise) || aws.ToInt32(ise.RetryAfterSeconds) != 2 {
		t.Fatalf("GetDomain with the rule in force: %v, want InternalServerException with Retry-After 2", err)
	}
	run(t, ctx, "the chart shows failures", until(`Number(document.querySelector('#live-chart')?.dataset.failed) > 0`),
		until(`document.querySelector('#status').innerText.includes('outage')`), until(`window.shownAfter !== undefined`))
	if ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.shownAfter`)); err == nil {
		t.Logf("the chart counted the rule's first failures %.0f ms after the click", ms)
	}
	if shooting() {
		run(t, ctx, "five seconds of failures", until(`Number(document.querySelector('#live-chart')?.dataset.failed) >= 50`))
	}
	screenshot(t, ctx, "faults")

	run(t, ctx, "the health view shows the outage", chromedp.Navigate(srv.URL()+"/#/health"),
		until(textHas("#operations", "GetDomain")),
		until(textHas("#operations", "outage")),
		choose(`#chart-operation`, "GetDomain"),
		until(`Number(document.querySelector('#live-chart').dataset.failed) > 0`),
		choose(`#chart-operation`, "ListFields"),
		until(`document.querySelector('#live-chart').dataset.requests === '0'`),
		choose(`#chart-operation`, ""))
	screenshot(t, ctx, "health")

	run(t, ctx, "the request log shows the fault", chromedp.Navigate(srv.URL()+"/#/requests"),
		until(textHas("#requests", "InternalServerException")),
		until(textHas("#requests", "rule-1")),
		until(textHas("#requests", "2 s")))
	screenshot(t, ctx, "requests")

	run(t, ctx, "remove one rule of two", chromedp.Navigate(srv.URL()+"/#/faults"),
		until(textHas("#rules", "GetDomain")),
		choose(`#fault-operation`, "ListFields"),
		choose(`#fault-kind`, "http:503"),
		chromedp.Click(chromedp.CSS(`#fault-form button[type=submit]`)),
		until(textHas("#rules", "HTTP 503")),
		chromedp.Click(`//button[@aria-label="Remove rule rule-2"]`),
		until(`!document.querySelector('#rules').innerText.includes('HTTP 503')`),
		until(textHas("#rules", "rule-1")))
	if rules, err := srv.Faults().List(); err != nil || len(rules) != 1 || rules[0].ID != "rule-1" {
		t.Fatalf("rules after removing rule-2 in the panel: %+v, %v", rules, err)
	}
	run(t, ctx, "clear the rules",
		chromedp.Click(chromedp.CSS(`#clear-rules`)),
		until(textHas("main", "No fault rules")))
	if _, err := cc.GetDomain(bg, &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Fatalf("GetDomain after clearing: %v", err)
	}
}

// TestBrowserNarrowWindow: the console is usable on a narrow window: the
// navigation wraps rather than overflowing.
func TestBrowserNarrowWindow(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	if _, err := srv.Client().CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("narrow")}); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ hash, ready string }{
		{"#/domains", textHas("#domains", "narrow")},
		{"#/health", textHas("#live-now", "requests/s")},
		{"#/faults", textHas("main", "Add a rule")},
		{"#/requests", textHas("#requests", "ListDomains")},
		{"#/events", textHas("main", "No case events yet")},
	}
	run(t, ctx, "narrow", chromedp.EmulateViewport(390, 844))
	for _, p := range pages {
		run(t, ctx, p.hash, chromedp.Navigate(srv.URL()+"/"+p.hash), until(p.ready))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("%s scrolls sideways at 390 px", p.hash)
		}
		if p.hash == "#/domains" {
			screenshot(t, ctx, "narrow")
		}
	}
}

// TestBrowserOtherSitesCannotUseTheConsole: a page on another site, open in
// the same browser, tries what it can against the console's origin: read
// the request log, include the live stream as a script, change the fault
// rules with a simple request, reset through a form, create a domain. It
// reads nothing and changes nothing.
func TestBrowserOtherSitesCannotUseTheConsole(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	bg := context.Background()
	if err := srv.Faults().Add(fault.Rule{ID: "kept", Operation: fault.StringList{"GetCase"}, Error: &fault.ErrorSpec{Code: "ThrottlingException"}}); err != nil {
		t.Fatal(err)
	}
	target := srv.URL() // http://127.0.0.1:PORT
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><body>
<form id="f" method="POST" action="%[1]s/_localcases/faults/reset" target="sink"></form>
<iframe name="sink"></iframe>
<script>
window.results = {};
const T = %[1]q;
async function attempt(name, fn) { try { window.results[name] = await fn(); } catch (e) { window.results[name] = 'error: ' + e.message; } }
(async () => {
  await attempt('read requests', async () => (await fetch(T + '/_localcases/requests')).status);
  await attempt('read health no-cors', async () => (await fetch(T + '/_localcases/health', {mode: 'no-cors'})).type);
  await attempt('clear rules', async () => (await fetch(T + '/_localcases/faults', {method: 'DELETE', mode: 'no-cors'})).type);
  await attempt('replace rules', async () => (await fetch(T + '/_localcases/faults', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '[]'})).type);
  await attempt('create domain', async () => (await fetch(T + '/domains', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{"name":"evil"}'})).type);
  await attempt('live as script', () => new Promise((ok) => { const s = document.createElement('script'); s.src = T + '/_localcases/live'; s.onload = () => ok('loaded'); s.onerror = () => ok('refused'); document.body.append(s); }));
  document.getElementById('f').submit();
  window.results.done = true;
})();
</script>`, target)
	}))
	defer evil.Close()
	// localhost is another site than 127.0.0.1 to the browser.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	run(t, ctx, "visit the other site", chromedp.Navigate(evilURL), until(`window.results && window.results.done === true`))
	results, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`window.results`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("what the page got: %v", results)
	if v := fmt.Sprint(results["read requests"]); !strings.HasPrefix(v, "error:") {
		t.Errorf("the other site read the request log: %v", v)
	}
	if v := fmt.Sprint(results["live as script"]); v != "refused" {
		t.Errorf("the live stream loaded as a script: %v", v)
	}
	// The form posts last; wait for its answer to land in the frame before
	// checking that nothing changed.
	run(t, ctx, "the form was answered", until(`(() => { try { return window.frames.sink.location.href === 'about:blank' ? false : true; } catch (e) { return true; } })()`))
	rules, err := srv.Faults().List()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].ID != "kept" {
		t.Errorf("the other site changed the rules: %+v", rules)
	}
	out, err := srv.Client().ListDomains(bg, &connectcases.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Domains) != 0 {
		t.Errorf("the other site created a domain: %+v", out.Domains)
	}
}

// TestBrowserEventStream: the events page offers to enable a domain's
// event configuration; once enabled, a case created with the SDK appears
// in the stream as it is published, and links to the case.
func TestBrowserEventStream(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	bg := context.Background()
	c := srv.Client()
	d, err := c.CreateDomain(bg, &connectcases.CreateDomainInput{Name: aws.String("evented")})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := c.CreateTemplate(bg, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("Default")})
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "open the events page", chromedp.Navigate(srv.URL()+"/#/events"),
		until(textHas("main", "No case events yet")),
		until(textHas("#events-state", "live")),
		chromedp.Click(`//button[contains(., "Enable events for evented")]`),
		until(`!document.querySelector('.notice')`))
	cfg, err := c.GetCaseEventConfiguration(bg, &connectcases.GetCaseEventConfigurationInput{DomainId: d.DomainId})
	if err != nil || cfg.EventBridge == nil || !aws.ToBool(cfg.EventBridge.Enabled) {
		t.Fatalf("event configuration after the console enabled it: %+v, %v", cfg, err)
	}
	created, err := c.CreateCase(bg, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: tpl.TemplateId,
		Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "Lost parcel"}}}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "the event arrives", until(textHas("#events", "CASE.CREATED")), until(textHas("#events", "Lost parcel")))
	screenshot(t, ctx, "events")
	run(t, ctx, "open its case", chromedp.Click(`//table[@id="events"]//a[text()="Lost parcel"]`),
		until(textHas("#case-fields", aws.ToString(created.CaseId))))
}

// TestBrowserTokenLoginAndStrictSigning: with an admin token the console
// asks for it and logs in; with strict authentication it asks for an
// access key and signs its API calls with it (SigV4 in the page), and the
// key's policy applies: a read-only key reads, and cannot create.
func TestBrowserTokenLoginAndStrictSigning(t *testing.T) {
	ctx := tab(t)
	const token = "console-admin-token"
	allow := func(actions ...string) []auth.Statement {
		return []auth.Statement{{Effect: "Allow", Action: auth.Strings(actions), Resource: auth.Strings{"*"}}}
	}
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.AdminToken = token
		c.Auth = auth.Config{Mode: auth.Strict, Credentials: []auth.Credential{
			{AccessKeyID: "AKIDLOCALCASES", SecretAccessKey: "secret", Policy: allow("cases:*")},
			{AccessKeyID: "AKIDREADER", SecretAccessKey: "reader/secret+1", Policy: allow("cases:Get*", "cases:List*", "cases:Search*")},
		}}
	}))
	bg := context.Background()
	d, err := servertest.Client(srv.URL()).CreateDomain(bg, &connectcases.CreateDomainInput{Name: aws.String("signed")})
	if err != nil {
		t.Fatal(err)
	}

	run(t, ctx, "the login form", chromedp.Navigate(srv.URL()+"/"), until(`!!document.querySelector('#token')`))
	screenshot(t, ctx, "login")
	run(t, ctx, "a wrong token is refused",
		chromedp.SendKeys(chromedp.CSS(`#token`), "guess"),
		chromedp.Click(`//button[text()="Log in"]`),
		until(textHas("#toast", "not the server's admin token")))
	run(t, ctx, "the right token logs in",
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(`//button[text()="Log in"]`),
		until(textHas("main", "checks SigV4 signatures")))
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookies != "" {
		t.Errorf("the session cookie is readable by script: %q, %v", cookies, err)
	}
	run(t, ctx, "a read-only key",
		chromedp.SendKeys(chromedp.CSS(`input[name=accessKeyId]`), "AKIDREADER"),
		chromedp.SendKeys(chromedp.CSS(`input[name=secretAccessKey]`), "reader/secret+1"),
		chromedp.Click(`//button[text()="Use credentials"]`),
		until(textHas("#domains", "signed")))
	run(t, ctx, "signed reads with paths and query strings",
		chromedp.Click(`//table[@id="domains"]//a[text()="signed"]`),
		until(textHas("main", aws.ToString(d.DomainId))),
		until(textHas("#fields", "Title")))
	run(t, ctx, "the key's policy applies",
		chromedp.Navigate(srv.URL()+"/#/domains"),
		until(textHas("#domains", "signed")),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "not-allowed"),
		chromedp.Click(`//button[text()="Create"]`),
		until(textHas("#toast", "AccessDeniedException")),
		until(textHas("#toast", "cases:CreateDomain")))
	run(t, ctx, "the admin views need only the session", chromedp.Navigate(srv.URL()+"/#/faults"),
		until(textHas("main", "No fault rules")),
		until(textHas("#status", "Service operational"))) // the live stream, through the cookie
	run(t, ctx, "log out", chromedp.Click(chromedp.CSS(`#logout`)), until(`!!document.querySelector('#token')`))
	session, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch('/_localcases/ui/session').then((r) => r.json())`, chromedp.EvalAwaitPromise))
	if err != nil || session["authenticated"] != false {
		t.Errorf("session after logging out: %v, %v", session, err)
	}
}

// TestBrowserScenarioAndThrottling: the fault panel starts and stops a
// scenario and turns throttling on and off, and the server does so.
func TestBrowserScenarioAndThrottling(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	bg := context.Background()
	cc := srv.Client(func(o *connectcases.Options) { o.RetryMaxAttempts = 1 })
	run(t, ctx, "open the fault panel", chromedp.Navigate(srv.URL()+"/#/faults"),
		until(textHas("#scenario", "No scenario")),
		choose(`#scenario-preset`, "outage"),
		chromedp.Click(`//button[text()="Start scenario"]`),
		until(textHas("#scenario", "outage")),
		until(textHas("#scenario", "Scenario events")),
		until(textHas("#scenario", "start")),
		until(textHas("#status", "outage")))
	_, err := cc.ListDomains(bg, &connectcases.ListDomainsInput{})
	var ise *types.InternalServerException
	if !errors.As(err, &ise) {
		t.Fatalf("ListDomains during the outage scenario: %v", err)
	}
	run(t, ctx, "stop it", chromedp.Click(`//button[text()="Stop scenario"]`),
		until(textHas("#scenario", "No scenario")))
	if _, err := cc.ListDomains(bg, &connectcases.ListDomainsInput{}); err != nil {
		t.Fatalf("ListDomains after the scenario stopped: %v", err)
	}
	run(t, ctx, "throttling on", chromedp.Click(chromedp.CSS(`#throttling`)), until(textHas("#toast", "Throttling on")))
	th, err := srv.Admin().Throttle(bg)
	if err != nil || !th.Enabled {
		t.Fatalf("throttling after the panel turned it on: %+v, %v", th, err)
	}
	run(t, ctx, "throttling off", chromedp.Click(chromedp.CSS(`#throttling`)), until(textHas("#toast", "Throttling off")))
	if th, err := srv.Admin().Throttle(bg); err != nil || th.Enabled {
		t.Fatalf("throttling after the panel turned it off: %+v, %v", th, err)
	}
}

// TestBrowserKeyboard: the console works without a mouse: Tab reaches a
// domain's link and Enter opens it; on the search, / focuses the search
// term and Enter searches.
func TestBrowserKeyboard(t *testing.T) {
	ctx := tab(t)
	srv := localcasestest.New(t)
	domainID, _ := seedCases(t, srv.Client(), 3)
	run(t, ctx, "open the console", chromedp.Navigate(srv.URL()+"/"), until(textHas("#domains", "support")),
		chromedp.KeyEvent("\t"), until(`document.activeElement.textContent === 'Skip to content'`))
	for i := 0; ; i++ {
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`))
		if err != nil {
			t.Fatal(err)
		}
		if focused == "support" {
			break
		}
		if i == 30 {
			t.Fatalf("30 presses of Tab did not reach the domain's link; focus is on %q", focused)
		}
		run(t, ctx, "Tab", chromedp.KeyEvent("\t"))
	}
	run(t, ctx, "Enter opens the domain", chromedp.KeyEvent("\r"), until(textHas("#fields", "Title")))
	run(t, ctx, "/ focuses the search", chromedp.Navigate(srv.URL()+"/#/domains/"+domainID+"/cases"),
		until(`document.querySelectorAll('#cases tbody tr').length === 4`),
		chromedp.KeyEvent("/"), until(`document.activeElement.id === 'search-term'`),
		chromedp.KeyEvent("fire\r"),
		until(`document.querySelectorAll('#cases tbody tr').length === 1`),
		until(textHas("#cases", "Printer on fire")))
}
