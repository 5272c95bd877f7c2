module github.com/localcases/localcases/resilience

go 1.25.0

toolchain go1.26.10

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/service/connectcases v1.42.2
	github.com/aws/aws-sdk-go-v2/service/health v1.45.0
	github.com/aws/smithy-go v1.28.9
	github.com/sony/gobreaker/v2 v2.4.0
)

require (
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
)
