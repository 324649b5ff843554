using FanVote.Launcher;

// plan FILE                     print what `up` would start
// up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env K=V ...] [--timeout SECONDS]
// down --state DIR
try
{
    switch (args)
    {
        case ["plan", var runFile, ..]:
            foreach (var app in RunFile.Load(runFile))
            {
                Console.WriteLine($"{app.AppId}\t{app.AppDirPath}\t{string.Join(' ', app.Command)}\t{string.Join(' ', app.DaprdArgs(app.DaprHttpPort ?? 0, app.DaprGrpcPort ?? 0))}");
            }

            return 0;
        case ["up", var runFile, .. var rest]:
        {
            var opts = Options(rest);
            var supervisor = new Supervisor(opts["state"], opts["sidecar"], Console.Out);
            var env = rest.SkipWhile(a => a != "--env").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))
                .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
            var timeout = TimeSpan.FromSeconds(opts.TryGetValue("timeout", out var t) ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 180);
            var apps = RunFile.Load(runFile);
            if (opts.TryGetValue("resources", out var resources))
            {
                apps = RunFile.WithRegion(apps, resources, opts.GetValueOrDefault("config"));
            }

            await supervisor.UpAsync(apps, env, timeout);
            return 0;
        }

        case ["down", .. var rest]:
        {
            var stopped = await new Supervisor(Options(rest)["state"], "", Console.Out).DownAsync();
            Console.WriteLine($"stopped {stopped} process(es)");
            return 0;
        }

        default:
            await Console.Error.WriteLineAsync("usage: FanVote.Launcher plan FILE | up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env K=V ...] | down --state DIR");
            return 2;
    }
}
catch (RunFileException e)
{
    await Console.Error.WriteLineAsync($"fanvote: {e.Message}");
    return 1;
}

static Dictionary<string, string> Options(string[] rest)
{
    var d = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < rest.Length - 1; i++)
    {
        if (rest[i].StartsWith("--", StringComparison.Ordinal) && rest[i] != "--env")
        {
            d[rest[i][2..]] = rest[i + 1];
        }
    }

    return d;
}
