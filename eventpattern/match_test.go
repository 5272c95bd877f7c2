package eventpattern

import (
	"errors"
	"strings"
	"testing"
)

// Events used by several examples.
const (
	// The sample event of the event-ruler README
	// (https://github.com/aws/event-ruler/blob/main/README.md), whose
	// examples the EventBridge operator pages repeat.
	ec2Event = `{
	  "version": "0",
	  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "012345679012",
	  "time": "2017-10-02T16:24:49Z",
	  "region": "us-east-1",
	  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
	  "detail": {
	    "c-count": 5,
	    "d-count": 3,
	    "x-limit": 301.8,
	    "source-ip": "10.0.0.33",
	    "instance-id": "i-000000aaaaaa00000",
	    "state": "running"
	  }
	}`

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
	terminatedEvent = `{
	  "version": "0",
	  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "111122223333",
	  "time": "2017-12-22T18:43:48Z",
	  "region": "us-west-1",
	  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
	  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
	}`

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
	nullEvent = `{
	  "version": "0",
	  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
	  "detail-type": "EC2 Instance Launch Successful",
	  "source": "aws.autoscaling",
	  "account": "123456789012",
	  "time": "2015-11-11T21:31:47Z",
	  "region": "us-east-1",
	  "resources": [],
	  "detail": {"eventVersion": "", "responseElements": null}
	}`

	// A Connect Cases event in the shape of
	// https://docs.aws.amazon.com/connect/latest/adminguide/case-event-streams-sample.html
	casesEvent = `{
	  "version": "0",
	  "id": "b1c4b1a6-1d3e-4b6e-9a76-2a0b1d0e3f4c",
	  "detail-type": "Amazon Connect Cases Change",
	  "source": "aws.cases",
	  "account": "123456789012",
	  "time": "2022-03-16T23:43:26Z",
	  "region": "us-west-2",
	  "resources": ["arn:aws:cases:us-west-2:123456789012:domain/d1", "arn:aws:cases:us-west-2:123456789012:domain/d1/case/c1"],
	  "detail": {
	    "version": "0",
	    "eventType": "CASE.UPDATED",
	    "approximateChangeTime": "2022-03-16T23:16:57.893Z",
	    "changedFieldIds": ["status", "last_updated_datetime"],
	    "performedBy": {"user": {"userArn": "arn:aws:connect:us-west-2:123456789012:instance/i/agent/a"}, "iamPrincipalArn": "arn:aws:iam::123456789012:role/r"},
	    "case": {"caseId": "c1", "templateId": "t1", "fields": {"status": {"value": {"stringValue": "closed"}}}}
	  }
	}`
)

type example struct {
	name    string
	pattern string
	event   string
	want    bool
}

// The documented examples, each with its page. Where a page shows a pattern
// without an event, the event is the page's sample or ec2Event, and a second
// row shows a near miss.
var docExamples = []example{
	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
	{"ec2 terminated", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, terminatedEvent, true},
	{"ec2 terminated vs running", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2Event, false},
	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html
	{"source any of", `{"source":["aws.ec2","aws.fargate"]}`, terminatedEvent, true},
	{"source none of", `{"source":["aws.s3","aws.fargate"]}`, terminatedEvent, false},
	{"case-sensitive", `{"source":["AWS.EC2"]}`, terminatedEvent, false},
	{"field must exist", `{"detail":{"missing":["x"]}}`, terminatedEvent, false},
	{"same nesting required", `{"state":["terminated"]}`, terminatedEvent, false},

	// event-ruler README "Simple matching".
	{"ruler simple", `{"detail-type":["EC2 Instance State-change Notification"],"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],"detail":{"state":["initializing","running"]}}`, ec2Event, true},

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
	{"arrays intersect", `{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f","arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`,
		`{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, true},
	{"arrays disjoint", `{"resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}`,
		`{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, false},

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
	{"empty string", `{"detail":{"eventVersion":[""]}}`, nullEvent, true},
	{"null", `{"detail":{"responseElements":[null]}}`, nullEvent, true},
	{"empty string is not null", `{"detail":{"responseElements":[""]}}`, nullEvent, false},
	{"null is not empty string", `{"detail":{"eventVersion":[null]}}`, nullEvent, false},

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
	// (its examples, event-ruler README for the sample event).
	{"prefix", `{"time":[{"prefix":"2017-10-02"}]}`, ec2Event, true},
	{"prefix miss", `{"time":[{"prefix":"2017-10-03"}]}`, ec2Event, false},
	{"prefix Region", `{"Region":[{"prefix":"us-"}]}`, `{"Region":"us-east-1"}`, true},
	{"prefix ignore case", `{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}`, `{"service":"EventBridge"}`, true},
	{"prefix ignore case miss", `{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}`, `{"service":"SQS"}`, false},
	{"suffix", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.png"}`, true},
	{"suffix miss", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.PNG"}`, false},
	{"suffix ruler", `{"source":[{"suffix":"ec2"}]}`, ec2Event, true},
	{"suffix ignore case", `{"service":[{"suffix":{"equals-ignore-case":"tBridge"}}]}`, `{"service":"EVENTBRIDGE"}`, true},
	{"equals ignore case", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alice"}`, true},
	{"equals ignore case miss", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alicia"}`, false},
	{"equals ignore case ruler", `{"source":[{"equals-ignore-case":"AWS.EC2"}]}`, ec2Event, true},
	{"equals", `{"Name":["Alice"]}`, `{"Name":"Alice"}`, true},
	{"empty", `{"LastName":[""]}`, `{"LastName":""}`, true},
	{"empty miss", `{"LastName":[""]}`, `{"LastName":"Smith"}`, false},
	{"and", `{"Location":["New York"],"Day":["Monday"]}`, `{"Location":"New York","Day":"Monday"}`, true},
	{"and miss", `{"Location":["New York"],"Day":["Monday"]}`, `{"Location":"New York","Day":"Tuesday"}`, false},
	{"or values", `{"PaymentType":["Credit","Debit"]}`, `{"PaymentType":"Debit"}`, true},
	{"or fields", `{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}`, `{"Location":"Boston","Day":"Monday"}`, true},
	{"or fields miss", `{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}`, `{"Location":"Boston","Day":"Sunday"}`, false},
	{"anything-but", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, ec2Event, true},
	{"anything-but miss", `{"detail":{"state":[{"anything-but":"running"}]}}`, ec2Event, false},
	{"anything-but weather", `{"Weather":[{"anything-but":["Raining"]}]}`, `{"Weather":"Sunny"}`, true},
	{"anything-but number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, ec2Event, true},
	{"anything-but number miss", `{"detail":{"c-count":[{"anything-but":5}]}}`, ec2Event, false},
	{"anything-but list", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, ec2Event, true},
	{"anything-but list miss", `{"detail":{"state":[{"anything-but":["stopped","running"]}]}}`, ec2Event, false},
	{"anything-but number list", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, ec2Event, true},
	{"anything-but number list miss", `{"detail":{"d-count":[{"anything-but":[1,2,3]}]}}`, ec2Event, false},
	{"anything-but prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, ec2Event, true},
	{"anything-but prefix miss", `{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}`, ec2Event, false},
	{"anything-but prefix Region", `{"Region":[{"anything-but":{"prefix":"us-"}}]}`, `{"Region":"eu-west-1"}`, true},
	{"anything-but suffix", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.jpg"}`, true},
	{"anything-but suffix miss", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.png"}`, false},
	{"anything-but ignore case", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"INITIALIZING"}`, false},
	{"anything-but ignore case other", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"running"}`, true},
	{"anything-but wildcard", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/lib/x"}`, false},
	{"anything-but wildcard other", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/bin/x"}`, true},
	{"anything-but needs the field", `{"detail":{"absent":[{"anything-but":"x"}]}}`, ec2Event, false},
	{"numeric", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, ec2Event, true},
	{"numeric miss", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, ec2Event, false},
	{"numeric Price", `{"Price":[{"numeric":["=",100]}]}`, `{"Price":100.0}`, true},
	{"numeric Price range", `{"Price":[{"numeric":[">",10,"<=",20]}]}`, `{"Price":20}`, true},
	{"numeric Price range miss", `{"Price":[{"numeric":[">",10,"<=",20]}]}`, `{"Price":10}`, false},
	{"numeric string", `{"Price":[{"numeric":[">",10]}]}`, `{"Price":"20"}`, false},
	{"cidr", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, ec2Event, true},
	{"cidr miss", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, ec2Event, false},
	{"cidr ipv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db8::1"}`, true},
	{"exists", `{"ProductName":[{"exists":true}]}`, `{"ProductName":"x"}`, true},
	{"exists miss", `{"ProductName":[{"exists":true}]}`, `{"Other":"x"}`, false},
	{"does not exist", `{"ProductName":[{"exists":false}]}`, `{"Other":"x"}`, true},
	{"does not exist miss", `{"ProductName":[{"exists":false}]}`, `{"ProductName":"x"}`, false},
	{"exists false nested", `{"detail":{"c-count":[{"exists":false}]}}`, `{"detail":{"state":["initializing","running"]}}`, true},
	{"exists false on non-leaf", `{"detail":{"c-count":[{"exists":false}]}}`, `{"detail":{"state":["initializing","running"],"c-count":{"c1":100}}}`, true},
	{"exists true on non-leaf", `{"detail":{"c-count":[{"exists":true}]}}`, `{"detail":{"c-count":{"c1":100}}}`, false},
	{"exists true ruler", `{"detail":{"c-count":[{"exists":true}]}}`, ec2Event, true},
	{"wildcard", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
	{"wildcard png in dir", `{"FileName":[{"wildcard":"dir/*.png"}]}`, `{"FileName":"dir/a/b.png"}`, true},
	{"wildcard png in dir miss", `{"FileName":[{"wildcard":"dir/*.png"}]}`, `{"FileName":"other/b.png"}`, false},
	{"wildcard ruler", `{"source":[{"wildcard":"Simple*Service"}]}`, `{"source":"Simple Notification Service"}`, true},
	{"wildcard escaped star", `{"s":[{"wildcard":"a\\*b"}]}`, `{"s":"a*b"}`, true},
	{"wildcard escaped star miss", `{"s":[{"wildcard":"a\\*b"}]}`, `{"s":"axxb"}`, false},

	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
	// "Complex example with multiple matching".
	{"complex", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}`, ec2Event, true},

	// event-ruler README, "$or" examples.
	{"or normal", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, `{"source":"aws.cloudwatch","namespace":"AWS/ES"}`, true},
	{"or normal miss", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, `{"source":"aws.cloudwatch","namespace":"AWS/S3"}`, false},
	{"or parallel", `{"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}`,
		`{"namespace":"AWS/EC2","detail":{"detail-type":"CloudWatch Alarm State Change"}}`, true},
	{"or with and", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}`, true},
	{"or with and miss", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/S3"}`, false},
	{"or nested", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`,
		`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2","spaceId":1000}`, true},
	{"or as field name", `{"source":["aws.cloudwatch"],"$or":{"metricType":["MetricType"]}}`, `{"source":"aws.cloudwatch","$or":{"metricType":"MetricType"}}`, true},

	// event-ruler README, "JSON Array Matching".
	{"array of objects", `{"employees":{"firstName":["Anna"]}}`, `{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}`, true},
	{"array of arrays", `{"employees":{"firstName":["Peter"]}}`, `{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}`, true},
	{"array consistency", `{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}`, `{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}`, false},

	// Connect Cases patterns from ../shared/spec/EVENTS.md §5.2.
	{"cases closures", `{"source":["aws.cases"],"detail":{"eventType":["CASE.UPDATED"],"changedFieldIds":["status"],"case":{"fields":{"status":{"value":{"stringValue":["closed"]}}}}}}`, casesEvent, true},
	{"cases comments only", `{"source":["aws.cases"],"detail":{"relatedItem":{"relatedItemType":["Comment"]}}}`, casesEvent, false},
}

func TestDocExamples(t *testing.T) {
	for _, tc := range docExamples {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			if got := p.Match([]byte(tc.event)); got != tc.want {
				t.Errorf("Match = %v, want %v\npattern %s\nevent   %s", got, tc.want, tc.pattern, tc.event)
			}
		})
	}
}

// Behaviour the pages state in prose, and the choices doc.go lists.
func TestSemantics(t *testing.T) {
	for _, tc := range []example{
		{"number text differs", `{"n":[300]}`, `{"n":300.0}`, false},
		{"number text same", `{"n":[300]}`, `{"n":300}`, true},
		{"string is not number", `{"n":["300"]}`, `{"n":300}`, false},
		{"true literal", `{"b":[true]}`, `{"b":true}`, true},
		{"true is not string", `{"b":[true]}`, `{"b":"true"}`, false},
		{"null present for exists", `{"x":[{"exists":true}]}`, `{"x":null}`, true},
		{"empty array holds nothing", `{"x":[{"exists":false}]}`, `{"x":[]}`, true},
		{"empty array no exists", `{"x":[{"exists":true}]}`, `{"x":[]}`, false},
		{"scalar array any element", `{"x":[{"prefix":"b"}]}`, `{"x":["a","bc"]}`, true},
		{"nested arrays of scalars", `{"x":[3]}`, `{"x":[[1,2],[3]]}`, true},
		{"anything-but array any element", `{"x":[{"anything-but":"a"}]}`, `{"x":["a","b"]}`, true},
		{"anything-but array all excluded", `{"x":[{"anything-but":"a"}]}`, `{"x":["a","a"]}`, false},
		{"anything-but numeric compares value", `{"x":[{"anything-but":[300]}]}`, `{"x":3.0e2}`, false},
		{"anything-but string lets number pass", `{"x":[{"anything-but":"a"}]}`, `{"x":5}`, true},
		{"anything-but prefix needs string", `{"x":[{"anything-but":{"prefix":"a"}}]}`, `{"x":5}`, false},
		{"prefix on number", `{"x":[{"prefix":"3"}]}`, `{"x":30}`, false},
		{"nested absent parent exists false", `{"detail":{"x":[{"exists":false}]}}`, `{"other":1}`, true},
		{"nested under scalar", `{"detail":{"x":["a"]}}`, `{"detail":"a"}`, false},
		{"exists false in array element", `{"a":{"b":[{"exists":false}]}}`, `{"a":[{"b":1},{"c":1}]}`, true},
		{"deep array consistency", `{"a":{"x":[1],"y":{"z":[2]}}}`, `{"a":[{"x":1,"y":{"z":1}},{"x":2,"y":{"z":2}}]}`, false},
		{"deep array consistency hit", `{"a":{"x":[2],"y":{"z":[2]}}}`, `{"a":[{"x":1,"y":{"z":1}},{"x":2,"y":{"z":2}}]}`, true},
		{"or in array element", `{"a":{"$or":[{"x":[1]},{"y":[1]}]}}`, `{"a":[{"x":0},{"y":1}]}`, true},
		{"wildcard many", `{"s":[{"wildcard":"*a*b*"}]}`, `{"s":"xxaxxbxx"}`, true},
		{"wildcard order", `{"s":[{"wildcard":"*b*a"}]}`, `{"s":"ab"}`, false},
		{"wildcard overlap", `{"s":[{"wildcard":"ab*ba"}]}`, `{"s":"aba"}`, false},
		{"wildcard empty run", `{"s":[{"wildcard":"ab*ba"}]}`, `{"s":"abba"}`, true},
		{"wildcard escaped backslash", `{"s":[{"wildcard":"a\\\\*"}]}`, `{"s":"a\\zz"}`, true},
		{"wildcard star only", `{"s":[{"wildcard":"*"}]}`, `{"s":""}`, true},
		{"equals ignore case unicode", `{"s":[{"equals-ignore-case":"ÄRGER"}]}`, `{"s":"ärger"}`, true},
		{"numeric >=", `{"n":[{"numeric":[">=",5]}]}`, `{"n":5}`, true},
		{"numeric > open", `{"n":[{"numeric":[">",5]}]}`, `{"n":5}`, false},
		{"numeric negative", `{"n":[{"numeric":["<",0]}]}`, `{"n":-1e-6}`, true},
		{"cidr mapped v4", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"::ffff:10.1.2.3"}`, true},
		{"cidr not ip", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"ten"}`, false},
		{"event not object", `{"a":["x"]}`, `["a"]`, false},
		{"event not json", `{"a":["x"]}`, `{"a":"x"`, false},
		{"event trailing data", `{"a":["x"]}`, `{"a":"x"} {}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			if got := p.Match([]byte(tc.event)); got != tc.want {
				t.Errorf("Match = %v, want %v\npattern %s\nevent   %s", got, tc.want, tc.pattern, tc.event)
			}
		})
	}
}

// TestNilPatternMatchesAll: a nil pattern matches what decodes to a JSON
// object, the same events as a pattern that any object matches.
func TestNilPatternMatchesAll(t *testing.T) {
	var p *Pattern
	all, err := Compile([]byte(`{"absent":[{"exists":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		event string
		want  bool
	}{
		{`{"a":1}`, true},
		{" \n\t{\"a\":[1,{\"b\":null}]} \r\n", true},
		{`{}`, true},
		{"{\"a\":\"\xff\"}", true},
		{`{"a":"\xff"}`, false},
		{`not json`, false},
		{``, false},
		{`[1]`, false},
		{`"x"`, false},
		{`null`, false},
		{`{"a":1} {}`, false},
		{`{"a":1} x`, false},
		{`{"a":1`, false},
		{`{"a":01}`, false},
	} {
		if got := p.Match([]byte(tc.event)); got != tc.want {
			t.Errorf("nil pattern: Match(%q) = %v, want %v", tc.event, got, tc.want)
		}
		if got := all.Match([]byte(tc.event)); got != tc.want {
			t.Errorf("exists:false: Match(%q) = %v, want %v", tc.event, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, path, reason string }{
		{``, "", "empty input"},
		{`[1]`, "", "must be a JSON object"},
		{`{"a":["x"]} x`, "", "data after"},
		{`{"a":`, "", "not valid JSON"},
		{`{}`, "", "empty object"},
		{`{"detail":{}}`, "detail", "empty object"},
		{`{"source":"aws.cases"}`, "source", `write ["aws.cases"]`},
		{`{"source":[]}`, "source", "empty array"},
		{`{"source":[["a"]]}`, "source[0]", "cannot nest"},
		{`{"a":[{"prefix":"x","suffix":"y"}]}`, "a[0]", "exactly one operator"},
		{`{"a":[{"contains":"x"}]}`, "a[0]", `unknown operator "contains"`},
		{`{"a":[{"prefix":1}]}`, "a[0].prefix", "needs a string"},
		{`{"a":[{"prefix":{"wildcard":"x"}}]}`, "a[0].prefix", "equals-ignore-case"},
		{`{"a":[{"equals-ignore-case":1}]}`, "a[0].equals-ignore-case", "needs a string"},
		{`{"a":[{"wildcard":"a**b"}]}`, "a[0].wildcard", "consecutive"},
		{`{"a":[{"wildcard":"a\\b"}]}`, "a[0].wildcard", "backslash"},
		{`{"a":[{"wildcard":"a\\"}]}`, "a[0].wildcard", "backslash"},
		{`{"a":[{"exists":"yes"}]}`, "a[0].exists", "true or false"},
		{`{"a":[{"cidr":"10.0.0.0"}]}`, "a[0].cidr", "CIDR"},
		{`{"a":[{"numeric":[">"]}]}`, "a[0].numeric", "one or two comparisons"},
		{`{"a":[{"numeric":["!=",1]}]}`, "a[0].numeric[0]", "not a comparison"},
		{`{"a":[{"numeric":[">","1"]}]}`, "a[0].numeric[1]", "JSON number"},
		{`{"a":[{"numeric":["=",1,"<",2]}]}`, "a[0].numeric", "cannot be combined"},
		{`{"a":[{"numeric":[">",1,">",2]}]}`, "a[0].numeric", "two lower bounds"},
		{`{"a":[{"numeric":["<",1,"<",2]}]}`, "a[0].numeric", "two upper bounds"},
		{`{"a":[{"numeric":[">",5,"<",1]}]}`, "a[0].numeric", "range is empty"},
		{`{"a":[{"numeric":[">",1e999]}]}`, "a[0].numeric[1]", "out of range"},
		{`{"a":[{"anything-but":[]}]}`, "a[0].anything-but", "empty list"},
		{`{"a":[{"anything-but":["x",1]}]}`, "a[0].anything-but[1]", "not a mix"},
		{`{"a":[{"anything-but":[1,"x"]}]}`, "a[0].anything-but[1]", "not a mix"},
		{`{"a":[{"anything-but":[true]}]}`, "a[0].anything-but[0]", "string or a number"},
		{`{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "a[0].anything-but", `cannot hold "numeric"`},
		{`{"a":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "a[0].anything-but", "exactly one"},
		{`{"a":[{"anything-but":{"prefix":1}}]}`, "a[0].anything-but.prefix", "needs a string"},
		{`{"a":[{"anything-but":null}]}`, "a[0].anything-but", "not null"},
		{`{"$or":[{"a":["x"]},{"b":"y"}]}`, "$or[1].b", "must be an array"},
		{`{"detail":{"$or":[{"a":["x"]},{}]}}`, "detail.$or[1]", "empty object"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			_, err := Compile([]byte(tc.pattern))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Compile(%s) = %v, want *Error", tc.pattern, err)
			}
			if pe.Path != tc.path || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("Compile(%s) = %q (path %q), want path %q and reason containing %q", tc.pattern, err, pe.Path, tc.path, tc.reason)
			}
		})
	}
}

func TestString(t *testing.T) {
	const src = `{"source":["aws.cases"]}`
	p, err := Compile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != src {
		t.Errorf("String() = %q", p.String())
	}
}
