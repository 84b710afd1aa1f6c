import Blytz
import Contracts

await FunctionRuntime.run(Contracts.functions)
