import Blytz
import Communication

await FunctionRuntime.run(Communication.functions)
