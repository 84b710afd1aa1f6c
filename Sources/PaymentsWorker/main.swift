import Blytz
import Payments

await FunctionRuntime.run(Payments.functions)
