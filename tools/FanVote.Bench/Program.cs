using FanVote.Bench;

return args.FirstOrDefault() switch
{
    "sidecar" => await SidecarBench.RunAsync(BenchArgs.Parse(args.Skip(1))),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FanVote.Bench sidecar --sidecar PATH/FanVote.Sidecar.dll --redis HOST:PORT [--messages N] [--concurrency N] [--bulk-size N] [--payload BYTES]");
    return 2;
}
