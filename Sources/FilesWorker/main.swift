import Blytz
import Files

await FunctionRuntime.run(Files.functions)
