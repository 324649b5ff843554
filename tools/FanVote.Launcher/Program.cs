using FanVote.Launcher;

// `plan`: print what `up` would start, one line per app (app id, dir, command, daprd flags).
if (args is ["plan", var runFile, ..])
{
    try
    {
        var port = 3500;
        foreach (var app in RunFile.Load(runFile))
        {
            var http = app.DaprHttpPort ?? port++;
            var grpc = app.DaprGrpcPort ?? 50001 + (http - 3500);
            Console.WriteLine($"{app.AppId}\t{app.AppDirPath}\t{string.Join(' ', app.Command)}\t{string.Join(' ', app.DaprdArgs(http, grpc))}");
        }

        return 0;
    }
    catch (RunFileException e)
    {
        await Console.Error.WriteLineAsync($"fanvote: {e.Message}");
        return 1;
    }
}

await Console.Error.WriteLineAsync("usage: FanVote.Launcher plan PATH/dapr.yaml");
return 2;
