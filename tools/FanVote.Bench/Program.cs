using FanVote.Bench;

return args.FirstOrDefault() switch
{
    "sidecar" => await SidecarBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "bare" => await BareEndpoint.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "direct" => DirectEndpoint.Run(BenchArgs.Parse(args.Skip(1))),
    "pipeline" => await PipelineBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "streams" => await StreamsBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "fraud" => await FraudBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "soak" => await SoakBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "trust" => await TrustBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "coldstart" => await ColdStartBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "loadtest" => await LoadTest.RunAsync(BenchArgs.Parse(args.Skip(1))),
    "engagement" => await EngagementBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FanVote.Bench sidecar --sidecar DLL --redis HOST:PORT [...] | bare --port N | direct --port N (ingress's environment) | pipeline --run-dir DIR --pg CONN --operator-key K | streams --results DLL --sidecar DLL --resources DIR --redis HOST:PORT [--streams 1000,5000,10000] | fraud --models DIR --sidecar DLL --fraud DLL --redis HOST:PORT --resources DIR | soak --sidecar DLL --redis HOST:PORT [--votes 2000000] [--rate 20000] [--groups 1] [--trim-interval 2s] | trust [--ops 200000] | coldstart --run-dir DIR --fanvote PATH [--connections 256] [--seconds 10] [--app-env A=1,B=2] [--variants |A=1|B=2] [--prime-seconds N [--prime-connections 8] [--prime-window ID]] [--backlog-seconds 60] [--tally no] | engagement --run-dir DIR [--seconds 10] [--accounts 1000] [--concurrency 64] [--trivia-fans 10000] [--trivia-seconds 10] | loadtest --run-dir DIR --peak N [--hold 20] [--warmup 20] [--accounts 20000] [--replay-percent 5] [--bad-percent 2] [--p99-ms 1000] [--ingress-instances 1] [--capacity 7300]");
    return 2;
}
