import Blytz
import Contracts

FunctionRuntime.main(Contracts.functions)
